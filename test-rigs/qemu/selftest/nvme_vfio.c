/*
 * nvme_vfio: the rig's proof that the guest's NVMe controller does real DMA
 * through VFIO type1 at a high IOVA (above 4 GiB), independent of the Java
 * library. Written for dmadirect from <linux/vfio.h> and the NVMe base
 * specification's register and command layouts.
 *
 * Polled, no interrupts: reset the controller, set up an admin queue pair,
 * Identify Controller (checks serial and model), Identify Namespace 1,
 * create one I/O queue pair, write 8 blocks, flush, read them back into
 * another buffer and compare.
 *
 * Usage: nvme_vfio [--bdf BDF] [--serial S] [--iova ADDR]
 * Exit: 0 all checks passed, 1 a check failed, 2 setup error.
 * The device must be bound to vfio-pci (bind.sh nvme vfio-pci).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u

/* controller registers (BAR0) */
#define REG_CAP  0x00
#define REG_VS   0x08
#define REG_CC   0x14
#define REG_CSTS 0x1c
#define REG_AQA  0x24
#define REG_ASQ  0x28
#define REG_ACQ  0x30
#define REG_DBS  0x1000

#define QDEPTH 16u

/* 64-byte submission queue entry */
struct sqe {
    uint32_t cdw0; /* opcode | cid << 16 */
    uint32_t nsid;
    uint64_t rsvd;
    uint64_t mptr;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
/* 16-byte completion queue entry */
struct cqe {
    uint32_t dw0, dw1;
    uint16_t sq_head, sq_id;
    uint16_t cid, status; /* status bit 0 = phase */
};
_Static_assert(sizeof(struct sqe) == 64, "sqe");
_Static_assert(sizeof(struct cqe) == 16, "cqe");

static int container = -1, group = -1, device = -1;
static off_t bar_off;
static unsigned dstrd;
static int failures;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("nvme_vfio: ERROR: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    if (!ok)
        failures++;
}

/* Register access through the VFIO region with pread/pwrite: this works
 * whether or not the MSI-X table inside BAR0 lets the BAR be mmapped. */
static uint32_t rd32(unsigned off)
{
    uint32_t v;
    if (pread(device, &v, 4, bar_off + off) != 4)
        die("read reg 0x%x: %s", off, strerror(errno));
    return v;
}
static void wr32(unsigned off, uint32_t v)
{
    if (pwrite(device, &v, 4, bar_off + off) != 4)
        die("write reg 0x%x: %s", off, strerror(errno));
}
static uint64_t rd64(unsigned off) { return rd32(off) | (uint64_t)rd32(off + 4) << 32; }
static void wr64(unsigned off, uint64_t v) { wr32(off, (uint32_t)v); wr32(off + 4, (uint32_t)(v >> 32)); }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int wait_ready(int want, double limit)
{
    double t0 = now();
    while (((rd32(REG_CSTS) & 1u) != (unsigned)want)) {
        if (rd32(REG_CSTS) & 2u)
            die("controller fatal status (CSTS.CFS)");
        if (now() - t0 > limit)
            return -1;
        usleep(1000);
    }
    return 0;
}

/* A queue pair in one DMA buffer: SQ at +0, CQ at +PAGE. */
struct qpair {
    unsigned qid;
    struct sqe *sq;
    volatile struct cqe *cq;
    uint64_t sq_iova, cq_iova;
    unsigned sq_tail, cq_head, phase;
    uint16_t next_cid;
};

static void *dma_alloc(size_t len, uint64_t iova)
{
    void *va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (va == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    memset(va, 0, len);
    struct vfio_iommu_type1_dma_map m = {
        .argsz = sizeof m,
        .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
        .vaddr = (uintptr_t)va,
        .iova = iova,
        .size = len,
    };
    if (ioctl(container, VFIO_IOMMU_MAP_DMA, &m))
        die("VFIO_IOMMU_MAP_DMA(0x%" PRIx64 "): %s", iova, strerror(errno));
    return va;
}

static void qpair_init(struct qpair *q, unsigned qid, uint64_t iova)
{
    uint8_t *mem = dma_alloc(2 * PAGE, iova);
    q->qid = qid;
    q->sq = (struct sqe *)mem;
    q->cq = (volatile struct cqe *)(mem + PAGE);
    q->sq_iova = iova;
    q->cq_iova = iova + PAGE;
    q->sq_tail = q->cq_head = 0;
    q->phase = 1;
    q->next_cid = 1;
}

/* Submits one command and polls for its completion; returns the status
 * field (0 = success) or -1 on timeout. */
static int submit(struct qpair *q, struct sqe cmd, uint32_t *dw0)
{
    uint16_t cid = q->next_cid++;
    cmd.cdw0 = (cmd.cdw0 & 0xffu) | (uint32_t)cid << 16;
    q->sq[q->sq_tail] = cmd;
    q->sq_tail = (q->sq_tail + 1) % QDEPTH;
    __sync_synchronize();
    wr32(REG_DBS + (2 * q->qid) * (4u << dstrd), q->sq_tail);
    double t0 = now();
    for (;;) {
        volatile struct cqe *c = &q->cq[q->cq_head];
        if ((c->status & 1u) == q->phase) {
            __sync_synchronize();
            uint16_t st = c->status >> 1, got = c->cid;
            if (dw0)
                *dw0 = c->dw0;
            if (++q->cq_head == QDEPTH) {
                q->cq_head = 0;
                q->phase ^= 1;
            }
            wr32(REG_DBS + (2 * q->qid + 1) * (4u << dstrd), q->cq_head);
            if (got != cid)
                die("completion for cid %u, expected %u", got, cid);
            return st;
        }
        if (now() - t0 > 20.0)
            return -1;
        usleep(100);
    }
}

static void open_vfio(const char *bdf)
{
    char path[PATH_MAX + 32], link[PATH_MAX];
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdf);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0)
        die("%s: %s", path, strerror(errno));
    link[n] = 0;
    snprintf(path, sizeof path, "/dev/vfio/%s", strrchr(link, '/') + 1);
    if ((container = open("/dev/vfio/vfio", O_RDWR)) < 0)
        die("open /dev/vfio/vfio: %s", strerror(errno));
    if ((group = open(path, O_RDWR)) < 0)
        die("open %s: %s (bound to vfio-pci? IOMMU guest?)", path, strerror(errno));
    struct vfio_group_status st = { .argsz = sizeof st };
    if (ioctl(group, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
        die("group %s not viable", path);
    if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
        die("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
    if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
        die("VFIO_SET_IOMMU: %s", strerror(errno));
    if ((device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf)) < 0)
        die("VFIO_GROUP_GET_DEVICE_FD: %s", strerror(errno));
    printf("device %s: group node %s\n", bdf, path);

    struct vfio_region_info ri = { .argsz = sizeof ri, .index = VFIO_PCI_BAR0_REGION_INDEX };
    if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri))
        die("BAR0 region info: %s", strerror(errno));
    bar_off = (off_t)ri.offset;
    printf("BAR0: size 0x%llx flags 0x%x\n", (unsigned long long)ri.size, ri.flags);

    struct vfio_region_info cf = { .argsz = sizeof cf, .index = VFIO_PCI_CONFIG_REGION_INDEX };
    if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &cf))
        die("config region info: %s", strerror(errno));
    uint16_t cmd;
    if (pread(device, &cmd, 2, (off_t)cf.offset + PCI_COMMAND) != 2)
        die("read PCI_COMMAND");
    cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    if (pwrite(device, &cmd, 2, (off_t)cf.offset + PCI_COMMAND) != 2)
        die("write PCI_COMMAND");
}

static void trimmed(char *dst, const uint8_t *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = 0;
    for (size_t i = n; i > 0 && dst[i - 1] == ' '; i--)
        dst[i - 1] = 0;
}

int main(int argc, char **argv)
{
    const char *bdf = getenv("DMADIRECT_RIG_NVME_BDF");
    const char *want_serial = "dmadirect-rig";
    uint64_t base = 0x7f00000000ull; /* > 4 GiB, inside the 39-bit IOVA range */
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--bdf") && v) bdf = v, i++;
        else if (!strcmp(argv[i], "--serial") && v) want_serial = v, i++;
        else if (!strcmp(argv[i], "--iova") && v) base = strtoull(v, NULL, 0), i++;
        else die("usage: nvme_vfio [--bdf BDF] [--serial S] [--iova ADDR]");
    }
    if (!bdf)
        die("no --bdf and no DMADIRECT_RIG_NVME_BDF");
    open_vfio(bdf);

    uint64_t cap = rd64(REG_CAP);
    uint32_t vs = rd32(REG_VS);
    dstrd = (cap >> 32) & 0xf;
    double to = ((cap >> 24) & 0xff) * 0.5 + 5.0; /* CAP.TO in 500 ms units, plus TCG slack */
    printf("CAP 0x%016" PRIx64 " (MQES %u, DSTRD %u, TO %.1f s), VS %u.%u\n", cap,
           (unsigned)(cap & 0xffff) + 1, dstrd, to - 5.0, vs >> 16, (vs >> 8) & 0xff);
    check(vs >= 0x10000, "version register readable (VS=0x%08x)", vs);

    /* reset, then the admin queues */
    wr32(REG_CC, 0);
    if (wait_ready(0, to))
        die("controller did not reset");
    struct qpair admin, io;
    qpair_init(&admin, 0, base);
    wr32(REG_AQA, (QDEPTH - 1) << 16 | (QDEPTH - 1));
    wr64(REG_ASQ, admin.sq_iova);
    wr64(REG_ACQ, admin.cq_iova);
    /* EN, NVM command set, 4 KiB pages, SQ entries 2^6, CQ entries 2^4 */
    wr32(REG_CC, 1u | 6u << 16 | 4u << 20);
    check(wait_ready(1, to) == 0, "controller enabled with admin queues at IOVA 0x%" PRIx64, base);

    /* Identify Controller */
    uint8_t *idbuf = dma_alloc(PAGE, base + 0x10000);
    struct sqe c = { .cdw0 = 0x06, .prp1 = base + 0x10000, .cdw10 = 1 };
    int st = submit(&admin, c, NULL);
    char sn[21], mn[41];
    trimmed(sn, idbuf + 4, 20);
    trimmed(mn, idbuf + 24, 40);
    check(st == 0, "Identify Controller: status 0x%x, serial '%s', model '%s'", st, sn, mn);
    check(!strcmp(sn, want_serial), "serial number is '%s'", want_serial);

    /* Identify Namespace 1: block size */
    memset(idbuf, 0, PAGE);
    c = (struct sqe){ .cdw0 = 0x06, .nsid = 1, .prp1 = base + 0x10000, .cdw10 = 0 };
    st = submit(&admin, c, NULL);
    uint64_t nsze;
    memcpy(&nsze, idbuf, 8);
    unsigned flbas = idbuf[26] & 0xf;
    uint32_t lbaf;
    memcpy(&lbaf, idbuf + 128 + 4 * flbas, 4);
    unsigned lbads = (lbaf >> 16) & 0xff, bs = 1u << lbads;
    check(st == 0 && lbads >= 9 && lbads <= 12, "Identify Namespace 1: %" PRIu64 " blocks of %u bytes", nsze, bs);
    if (failures)
        goto out;

    /* one I/O queue pair: CQ first (opc 0x05), then SQ (0x01) */
    qpair_init(&io, 1, base + 0x20000);
    c = (struct sqe){ .cdw0 = 0x05, .prp1 = io.cq_iova, .cdw10 = (QDEPTH - 1) << 16 | 1, .cdw11 = 1 };
    st = submit(&admin, c, NULL);
    check(st == 0, "Create I/O CQ: status 0x%x", st);
    c = (struct sqe){ .cdw0 = 0x01, .prp1 = io.sq_iova, .cdw10 = (QDEPTH - 1) << 16 | 1, .cdw11 = 1u << 16 | 1 };
    st = submit(&admin, c, NULL);
    check(st == 0, "Create I/O SQ: status 0x%x", st);

    /* write one page worth of blocks at LBA 8, flush, read back, compare */
    unsigned nlb = PAGE / bs;
    uint64_t slba = 8, wr_iova = base + 0x40000, rd_iova = base + 0x50000;
    uint8_t *wbuf = dma_alloc(PAGE, wr_iova), *rbuf = dma_alloc(PAGE, rd_iova);
    for (unsigned i = 0; i < PAGE; i++)
        wbuf[i] = (uint8_t)(i * 13 + 7) ^ (uint8_t)(i >> 9);
    c = (struct sqe){ .cdw0 = 0x01, .nsid = 1, .prp1 = wr_iova, .cdw10 = (uint32_t)slba,
                      .cdw11 = (uint32_t)(slba >> 32), .cdw12 = nlb - 1 };
    st = submit(&io, c, NULL);
    check(st == 0, "Write %u blocks at LBA %" PRIu64 " from IOVA 0x%" PRIx64 ": status 0x%x", nlb, slba, wr_iova, st);
    c = (struct sqe){ .cdw0 = 0x00, .nsid = 1 };
    st = submit(&io, c, NULL);
    check(st == 0, "Flush: status 0x%x", st);
    c = (struct sqe){ .cdw0 = 0x02, .nsid = 1, .prp1 = rd_iova, .cdw10 = (uint32_t)slba,
                      .cdw11 = (uint32_t)(slba >> 32), .cdw12 = nlb - 1 };
    st = submit(&io, c, NULL);
    check(st == 0, "Read %u blocks into IOVA 0x%" PRIx64 ": status 0x%x", nlb, rd_iova, st);
    check(!memcmp(wbuf, rbuf, PAGE), "NVMe compare: %u bytes %s", PAGE,
          memcmp(wbuf, rbuf, PAGE) ? "DIFFER" : "MATCH");

out:
    wr32(REG_CC, 0); /* leave the controller disabled */
    wait_ready(0, to);
    printf("%s: %d check(s) failed\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
