package io.dmadirect.drivers.nvme;

/**
 * Controller registers (BAR0), command opcodes and queue entry layouts of the NVMe base specification
 * (2.0, section 3.1 "Controller Registers", 5 "Admin Command Set", 7 "I/O Commands").
 */
final class NvmeRegisters {
    static final int CAP = 0x00;
    static final int VS = 0x08;
    static final int INTMS = 0x0c;
    static final int INTMC = 0x10;
    static final int CC = 0x14;
    static final int CSTS = 0x1c;
    static final int AQA = 0x24;
    static final int ASQ = 0x28;
    static final int ACQ = 0x30;
    /** The first doorbell; each queue has a submission tail and a completion head doorbell, (4 << CAP.DSTRD) apart. */
    static final int DOORBELLS = 0x1000;

    static final int CC_EN = 1;
    /** CC.IOSQES = 6 (64-byte entries), CC.IOCQES = 4 (16-byte entries), MPS 0 (4 KiB pages), NVM command set. */
    static final int CC_ENTRY_SIZES = 6 << 16 | 4 << 20;
    /** CC.SHN = 01b, normal shutdown notification. */
    static final int CC_SHN_NORMAL = 1 << 14;
    static final int CSTS_RDY = 1;
    static final int CSTS_CFS = 2;
    static final int CSTS_SHST_MASK = 3 << 2;
    static final int CSTS_SHST_DONE = 2 << 2;

    static final int PAGE = 4096;
    static final int SQE_SIZE = 64;
    static final int CQE_SIZE = 16;

    // admin opcodes
    static final int ADMIN_DELETE_SQ = 0x00;
    static final int ADMIN_CREATE_SQ = 0x01;
    static final int ADMIN_DELETE_CQ = 0x04;
    static final int ADMIN_CREATE_CQ = 0x05;
    static final int ADMIN_IDENTIFY = 0x06;
    static final int ADMIN_ABORT = 0x08;
    static final int ADMIN_SET_FEATURES = 0x09;
    static final int FEATURE_NUMBER_OF_QUEUES = 0x07;
    static final int CNS_NAMESPACE = 0x00;
    static final int CNS_CONTROLLER = 0x01;
    static final int CNS_ACTIVE_NAMESPACES = 0x02;

    // NVM opcodes
    static final int IO_FLUSH = 0x00;
    static final int IO_WRITE = 0x01;
    static final int IO_READ = 0x02;

    private NvmeRegisters() {
    }

    /** CAP.MQES + 1: the largest queue the controller supports. */
    static int maxQueueEntries(long cap) {
        return (int) (cap & 0xffff) + 1;
    }

    /** CAP.DSTRD: doorbells are {@code 4 << dstrd} bytes apart. */
    static int doorbellStride(long cap) {
        return 4 << (int) ((cap >>> 32) & 0xf);
    }

    /** CAP.TO: worst-case time to become ready, in milliseconds (units of 500 ms). */
    static long readyTimeoutMillis(long cap) {
        return ((cap >>> 24) & 0xff) * 500;
    }

    /** CAP.MPSMIN: the smallest memory page size, in bytes. */
    static int minPageSize(long cap) {
        return 1 << (12 + (int) ((cap >>> 48) & 0xf));
    }

    /** CAP.CSS bit 0 (bit 37): the NVM command set. */
    static boolean supportsNvmCommandSet(long cap) {
        return (cap >>> 37 & 1) != 0;
    }

    static int submissionDoorbell(int qid, int stride) {
        return DOORBELLS + 2 * qid * stride;
    }

    static int completionDoorbell(int qid, int stride) {
        return DOORBELLS + (2 * qid + 1) * stride;
    }
}
