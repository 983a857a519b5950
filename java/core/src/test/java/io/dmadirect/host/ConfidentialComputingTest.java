package io.dmadirect.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.host.ConfidentialComputing.Status;
import org.junit.jupiter.api.Test;

class ConfidentialComputingTest {

    private static String cpuinfo(String flags) {
        return "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: " + flags + "\nbogomips\t: 4000.00\n\n"
                + "processor\t: 1\nflags\t\t: fpu\n";
    }

    @Test
    void tdxGuest() {
        assertEquals(new Status("Intel TDX", true),
                ConfidentialComputing.fromCpuinfo(cpuinfo("fpu vme hypervisor tdx_guest x2apic")));
    }

    @Test
    void sevSnpGuest() {
        assertEquals(new Status("AMD SEV-SNP", true),
                ConfidentialComputing.fromCpuinfo(cpuinfo("fpu hypervisor sme sev sev_es sev_snp")));
    }

    @Test
    void sevEsAndSevGuests() {
        assertEquals(new Status("AMD SEV-ES", true), ConfidentialComputing.fromCpuinfo(cpuinfo("hypervisor sev sev_es")));
        assertEquals(new Status("AMD SEV", true), ConfidentialComputing.fromCpuinfo(cpuinfo("hypervisor sev")));
    }

    @Test
    void bareMetalHostThatCanRunSevGuestsIsNotConfidential() {
        assertEquals(Status.NONE, ConfidentialComputing.fromCpuinfo(cpuinfo("fpu sme sev sev_es sev_snp")));
    }

    @Test
    void ordinaryGuestAndEmptyText() {
        assertEquals(Status.NONE, ConfidentialComputing.fromCpuinfo(cpuinfo("fpu vme hypervisor")));
        assertEquals(Status.NONE, ConfidentialComputing.fromCpuinfo(""));
    }

    @Test
    void flagsMatchWholeWordsOnly() {
        assertEquals(Status.NONE, ConfidentialComputing.fromCpuinfo(cpuinfo("hypervisor sevx no_tdx_guest")));
    }
}
