package io.dmadirect.agent;

import java.util.Set;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.pool.TypePool;

/**
 * Rewrites driver code: before each call into the DMA API it announces the call site's number
 * ({@code DmaHooks.site(n)}), and before each {@code ByteBuffer.allocateDirect} or
 * {@code Unsafe.allocateMemory} it reports that the driver takes memory that is not DMA memory. Nothing
 * else of the method changes, so it is safe for retransformation.
 */
final class CallSiteVisitor implements AsmVisitorWrapper.ForDeclaredMethods.MethodVisitorWrapper {
    private static final String HOOKS = "io/dmadirect/agent/bootstrap/DmaHooks";
    private static final Set<String> API_TYPES = Set.of("io/dmadirect/DmaDevice", "io/dmadirect/DmaBuffer",
            "io/dmadirect/DmaMapping", "io/dmadirect/DmaPlatform", "io/dmadirect/ScatterList");
    private static final Set<String> API_METHODS = Set.of("allocCoherent", "freeCoherent", "close", "map", "mapSg",
            "unmap", "syncForCpu", "syncForDevice");
    private static final Set<String> UNSAFE = Set.of("sun/misc/Unsafe", "jdk/internal/misc/Unsafe");

    private final boolean flagNonDmaMemory;

    /** @param flagNonDmaMemory whether to report {@code allocateDirect} and {@code allocateMemory} (debug with packages=) */
    CallSiteVisitor(boolean flagNonDmaMemory) {
        this.flagNonDmaMemory = flagNonDmaMemory;
    }

    @Override
    public MethodVisitor wrap(TypeDescription type, MethodDescription method, MethodVisitor visitor,
            Implementation.Context context, TypePool pool, int writerFlags, int readerFlags) {
        String name = method.isConstructor() ? "<init>" : method.isTypeInitializer() ? "<clinit>" : method.getName();
        return new Rewriter(visitor, type.getName(), name);
    }

    private final class Rewriter extends MethodVisitor {
        private final String className;
        private final String methodName;
        private int line;

        Rewriter(MethodVisitor visitor, String className, String methodName) {
            super(Opcodes.ASM9, visitor);
            this.className = className;
            this.methodName = methodName;
        }

        @Override
        public void visitLineNumber(int number, Label start) {
            line = number;
            super.visitLineNumber(number, start);
        }

        @Override
        public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
            if (API_TYPES.contains(owner) && API_METHODS.contains(name)) {
                String api = owner.substring(owner.lastIndexOf('/') + 1) + "." + name;
                super.visitLdcInsn(CallSites.register(className, methodName, line, api));
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "site", "(I)V", false);
            } else if (flagNonDmaMemory && (owner.equals("java/nio/ByteBuffer") && name.equals("allocateDirect")
                    || UNSAFE.contains(owner) && name.equals("allocateMemory"))) {
                String api = owner.substring(owner.lastIndexOf('/') + 1) + "." + name;
                super.visitLdcInsn(CallSites.register(className, methodName, line, api));
                super.visitLdcInsn(api);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "nonDmaAllocation", "(ILjava/lang/String;)V", false);
            }
            super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            super.visitMaxs(maxStack + 2, maxLocals);
        }
    }
}
