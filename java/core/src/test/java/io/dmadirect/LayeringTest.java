package io.dmadirect;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DESIGN §3, the layers of java/core, each using only those below it:
 * <ol>
 * <li>API and SPI: {@code io.dmadirect}, {@code spi}, and the API half of PCI ({@code pci});</li>
 * <li>policy, pure Java: {@code direct}, {@code dmapool}, {@code memory}, {@code pool}, {@code swiotlb}, {@code iova}, {@code sim};</li>
 * <li>mechanism: {@code linux} and its subpackages (the syscall seam, JNA, hugepages, VFIO, iommufd, UIO, sysfs);</li>
 * <li>assembly: {@code host}, the one composition root that builds Linux platforms and PCI sessions.</li>
 * </ol>
 * and no cycle between any two packages, at any depth. The graph is read from the compiled classes (every
 * reference: fields, signatures, calls, casts, annotations), not from import lines, so a fully qualified name
 * in code cannot slip past it.
 */
class LayeringTest {
    private static final String ROOT = "io.dmadirect";
    private static JavaClasses core;

    @BeforeAll
    static void importCompiledCore() {
        core = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages(ROOT);
    }

    @Test
    void theImportSeesTheLibrary() {
        // Guards against a vacuous pass: every layer must hold classes.
        for (String pkg : new String[] {ROOT, ROOT + ".spi", ROOT + ".pci", ROOT + ".direct", ROOT + ".linux",
                ROOT + ".linux.hugepages", ROOT + ".host"}) {
            assertTrue(core.containPackage(pkg) && !core.getPackage(pkg).getClasses().isEmpty(), pkg);
        }
    }

    @Test
    void layersUseOnlyTheLayersBelow() {
        ArchRule layers = layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("API").definedBy(ROOT, ROOT + ".spi..", ROOT + ".pci..")
                .layer("Policy").definedBy(ROOT + ".direct..", ROOT + ".dmapool..", ROOT + ".memory..", ROOT + ".pool..",
                        ROOT + ".swiotlb..", ROOT + ".iova..", ROOT + ".sim..")
                .layer("Mechanism").definedBy(ROOT + ".linux..")
                .layer("Assembly").definedBy(ROOT + ".host..")
                .whereLayer("Assembly").mayNotBeAccessedByAnyLayer()
                .whereLayer("Mechanism").mayOnlyBeAccessedByLayers("Assembly")
                .whereLayer("Policy").mayOnlyBeAccessedByLayers("Mechanism", "Assembly");
        layers.check(core);
    }

    /**
     * Every package of java/core at every depth, the root included, is a slice of its own; no two slices may reach
     * each other. (ArchUnit's {@code matching("io.dmadirect.(**)")} would leave the root package out, and the root
     * reaching {@code linux} was the cycle this test was written against.)
     */
    @Test
    void noPackageCycles() {
        slices().assignedFrom(EVERY_PACKAGE).should().beFreeOfCycles().check(core);
    }

    private static final SliceAssignment EVERY_PACKAGE = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
            String pkg = javaClass.getPackageName();
            return pkg.equals(ROOT) || pkg.startsWith(ROOT + ".") ? SliceIdentifier.of(pkg) : SliceIdentifier.ignore();
        }

        @Override
        public String getDescription() {
            return "every package of " + ROOT;
        }
    };

    @Test
    void theApiUsesNothingBelowIt() {
        com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses().that().resideInAPackage(ROOT)
                .should().dependOnClassesThat().resideOutsideOfPackages(ROOT, "java..")
                .because("io.dmadirect is the API: it names only itself and the JDK")
                .check(core);
    }

    /** The policy is pure Java: no JNA, no JNI bridge, no mechanism, no composition root. */
    @Test
    void policyIsPureJava() {
        com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses().that()
                .resideInAnyPackage(ROOT + ".direct..", ROOT + ".dmapool..", ROOT + ".memory..", ROOT + ".pool..", ROOT + ".swiotlb..",
                        ROOT + ".iova..", ROOT + ".sim..", ROOT + ".spi..", ROOT + ".pci..")
                .should().dependOnClassesThat().resideInAnyPackage("com.sun.jna..", ROOT + ".linux..", ROOT + ".host..")
                .check(core);
    }
}
