/*
 * edu_vfio: the rig's own proof that userspace DMA works in the guest,
 * independent of the Java library. Written for dmadirect from the uapi headers
 * <linux/vfio.h> and <linux/iommufd.h> and the edu device's register
 * description in RIG-NOTES.
 *
 * It drives QEMU's "edu" PCI device (1234:11e8):
 *   1. reads the id register (0x010000ed) and checks liveness (0x04 inverts);
 *   2. DMA: RAM -> device buffer (0x40000), then device buffer -> another RAM
 *      page, and compares the bytes;
 *   3. with --truncation (IOMMU modes only): shows the edu's 28-bit DMA mask.
 *      A transfer to IOVA 0x10300000 lands at IOVA 0x300000 when that is
 *      mapped, and delivers nothing (an IOMMU fault) when it is not.
 *
 * Access modes, picked from what the guest offers:
 *   vfio type1   /dev/vfio/N: IOVAs mapped with VFIO_IOMMU_MAP_DMA
 *   --iommufd    /dev/iommu + VFIO's device cdev /dev/vfio/devices/vfioN
 *                (Linux >= 6.6 with CONFIG_IOMMUFD, CONFIG_VFIO_DEVICE_CDEV):
 *                one IOAS, the device bound and attached to it, IOVAs mapped
 *                with IOMMU_IOAS_MAP at fixed addresses. Any further BDF
 *                arguments are bound and attached to the same IOAS too.
 *   vfio noiommu /dev/vfio/noiommu-N: DMA addresses are physical (pagemap)
 *   --uio        uio_pci_generic + sysfs resource0/config, physical addresses
 *
 * Usage: edu_vfio [--bdf BDF] [--uio | --iommufd [BDF...]] [--count N]
 *                 [--iova ADDR] [--mask MASK] [--truncation]
 * Exit: 0 all checks passed, 1 a check failed, 2 setup/usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
/* iommufd needs the uapi of Linux >= 6.6, which bookworm's /usr/include (6.1)
 * lacks. selftest.sh compiles with -I pointing at the 6.12 <linux/vfio.h> and
 * <linux/iommufd.h> that prepare.sh --iommufd sanitized from the guest
 * kernel's source; they take precedence over /usr/include for exactly these
 * two headers, everything they include (linux/types.h, linux/ioctl.h) comes
 * from the host's uapi, which is stable. Without them --iommufd is refused. */
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif
#ifdef VFIO_DEVICE_BIND_IOMMUFD
#define HAVE_IOMMUFD 1
#include <dirent.h>
#else
#define HAVE_IOMMUFD 0
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* edu register map (BAR0) */
#define EDU_ID        0x00
#define EDU_LIVENESS  0x04
#define EDU_DMA_SRC   0x80
#define EDU_DMA_DST   0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD   0x98
#define EDU_CMD_START  0x1u
#define EDU_CMD_TO_RAM 0x2u       /* direction bit: 1 = device -> RAM */
#define EDU_ID_VALUE   0x010000edu
#define EDU_BUF_ADDR   0x40000u   /* device-side address of its 4 KiB buffer */
/* QEMU 7.2 rejects count 4096 (off-by-one range check) with hw_error(). */
#define EDU_MAX_COUNT  4095u

#define PAGE 4096u

enum mode { MODE_TYPE1, MODE_NOIOMMU, MODE_UIO, MODE_IOMMUFD };

static const char *mode_name[] = { "vfio-type1", "vfio-noiommu", "uio", "iommufd" };
static volatile uint8_t *bar0;
static int failures;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("edu_vfio: ERROR: ", stderr);
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

static uint32_t rd32(unsigned off) { return *(volatile uint32_t *)(bar0 + off); }
static void wr32(unsigned off, uint32_t v) { *(volatile uint32_t *)(bar0 + off) = v; }
static void wr64(unsigned off, uint64_t v) { *(volatile uint64_t *)(bar0 + off) = v; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One edu transfer; returns 0 when the device reports it finished. The edu
 * completes 100 ms of virtual time after the command; we poll bit 0. */
static int edu_dma(uint64_t src, uint64_t dst, uint32_t count, int to_ram)
{
    wr64(EDU_DMA_SRC, src);
    wr64(EDU_DMA_DST, dst);
    wr64(EDU_DMA_COUNT, count);
    wr64(EDU_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0));
    double t0 = now();
    while (rd32(EDU_DMA_CMD) & EDU_CMD_START) {
        if (now() - t0 > 20.0) {
            fprintf(stderr, "edu_vfio: DMA did not complete in 20 s\n");
            return -1;
        }
        usleep(1000);
    }
    return 0;
}

static uint8_t pattern(size_t i) { return (uint8_t)((i * 7 + 0x5a) ^ (i >> 8)); }

/* ----- sysfs helpers ---------------------------------------------------- */

static int read_hex_file(const char *path, unsigned long *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = fscanf(f, "%lx", out);
    fclose(f);
    return n == 1 ? 0 : -1;
}

/* First PCI device with the edu's vendor:device id, or NULL. */
static const char *find_edu(void)
{
    static char bdf[64];
    FILE *p = popen("ls /sys/bus/pci/devices", "r");
    if (!p)
        return NULL;
    char line[64];
    const char *res = NULL;
    while (!res && fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        char path[PATH_MAX];
        unsigned long v = 0, d = 0;
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/vendor", line);
        if (read_hex_file(path, &v))
            continue;
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/device", line);
        if (read_hex_file(path, &d))
            continue;
        if (v == 0x1234 && d == 0x11e8) {
            snprintf(bdf, sizeof bdf, "%s", line);
            res = bdf;
        }
    }
    pclose(p);
    return res;
}

/* Physical address of the page holding va, from /proc/self/pagemap (root). */
static uint64_t virt_to_phys(const void *va)
{
    static int fd = -1;
    if (fd < 0 && (fd = open("/proc/self/pagemap", O_RDONLY)) < 0)
        die("open pagemap: %s", strerror(errno));
    uint64_t entry;
    off_t off = (off_t)((uintptr_t)va / PAGE) * 8;
    if (pread(fd, &entry, 8, off) != 8)
        die("pread pagemap: %s", strerror(errno));
    if (!(entry & (1ull << 63)))
        die("page %p not present", va);
    uint64_t pfn = entry & ((1ull << 55) - 1);
    if (pfn == 0)
        die("pagemap shows PFN 0: not root?");
    return pfn * PAGE + ((uintptr_t)va % PAGE);
}

/* In physical-address modes the edu only reaches addresses <= mask, so pick
 * pages that lie there out of a locked pool. Returns the virtual address. */
static uint8_t *low_page(uint8_t *pool, size_t pool_len, uint64_t mask, size_t *cursor, uint64_t *pa)
{
    for (; *cursor < pool_len; *cursor += PAGE) {
        uint8_t *va = pool + *cursor;
        uint64_t p = virt_to_phys(va);
        if (p + PAGE - 1 <= mask) {
            *cursor += PAGE;
            *pa = p;
            return va;
        }
    }
    die("no page below DMA mask 0x%" PRIx64 " in a %zu MiB pool", mask, pool_len >> 20);
    return NULL;
}

/* ----- VFIO ---------------------------------------------------------------- */

static int container = -1, group = -1, device = -1;
/* Prints one usable IOVA range; notes whether [lo, hi] lies inside it. */
static void iova_range(uint32_t i, uint64_t start, uint64_t end, uint64_t lo, uint64_t hi, int *in_range)
{
    printf("iommu: IOVA range %u: 0x%" PRIx64 "-0x%" PRIx64 "\n", i, start, end);
    if (lo >= start && hi <= end)
        *in_range = 1;
}

static void check_iova_ranges(const char *source, int have_ranges, int in_range, uint64_t lo, uint64_t hi)
{
    check(have_ranges, "%s reports IOVA ranges", source);
    if (have_ranges)
        check(in_range, "IOVAs 0x%" PRIx64 "-0x%" PRIx64 " lie in a valid range", lo, hi);
}

static void vfio_print_iommu_info(uint64_t want_lo, uint64_t want_hi)
{
    struct vfio_iommu_type1_info *info = calloc(1, sizeof *info);
    info->argsz = sizeof *info;
    if (ioctl(container, VFIO_IOMMU_GET_INFO, info))
        die("VFIO_IOMMU_GET_INFO: %s", strerror(errno));
    if (info->argsz > sizeof *info) {
        /* The kernel asks for room for the capability chain. */
        uint32_t sz = info->argsz;
        info = realloc(info, sz);
        memset(info, 0, sz);
        info->argsz = sz;
        if (ioctl(container, VFIO_IOMMU_GET_INFO, info))
            die("VFIO_IOMMU_GET_INFO (caps): %s", strerror(errno));
    }
    if (info->flags & VFIO_IOMMU_INFO_PGSIZES)
        printf("iommu: page sizes 0x%llx\n", (unsigned long long)info->iova_pgsizes);
    int in_range = 0, have_ranges = 0;
    if ((info->flags & VFIO_IOMMU_INFO_CAPS) && info->cap_offset) {
        uint32_t off = info->cap_offset;
        int hops = 0;
        while (off && off + sizeof(struct vfio_info_cap_header) <= info->argsz && hops++ < 32) {
            struct vfio_info_cap_header *h = (void *)((char *)info + off);
            if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
                struct vfio_iommu_type1_info_cap_iova_range *r = (void *)h;
                have_ranges = 1;
                for (uint32_t i = 0; i < r->nr_iovas; i++)
                    iova_range(i, r->iova_ranges[i].start, r->iova_ranges[i].end, want_lo, want_hi, &in_range);
            } else if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
                struct vfio_iommu_type1_info_dma_avail *a = (void *)h;
                printf("iommu: DMA mappings available: %u\n", a->avail);
            } else {
                printf("iommu: capability id %u version %u\n", h->id, h->version);
            }
            off = h->next;
        }
    }
    check_iova_ranges("VFIO_IOMMU_GET_INFO", have_ranges, in_range, want_lo, want_hi);
    free(info);
}

#if HAVE_IOMMUFD
static int iommufd = -1;   /* /dev/iommu, in --iommufd mode */
static uint32_t ioas_id;

static void iommufd_print_ranges(uint64_t want_lo, uint64_t want_hi)
{
    /* First call with no room: the kernel fills in num_iovas (EMSGSIZE). */
    struct iommu_ioas_iova_ranges r = { .size = sizeof r, .ioas_id = ioas_id };
    struct iommu_iova_range *ranges = NULL;
    while (ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &r)) {
        if (errno != EMSGSIZE || !(ranges = realloc(ranges, r.num_iovas * sizeof *ranges)))
            die("IOMMU_IOAS_IOVA_RANGES: %s", strerror(errno));
        r.allowed_iovas = (uintptr_t)ranges;
    }
    int in_range = 0;
    for (uint32_t i = 0; i < r.num_iovas && ranges; i++)
        iova_range(i, ranges[i].start, ranges[i].last, want_lo, want_hi, &in_range);
    printf("iommu: IOVA alignment 0x%llx\n", (unsigned long long)r.out_iova_alignment);
    check_iova_ranges("IOMMU_IOAS_IOVA_RANGES", r.num_iovas > 0 && ranges, in_range, want_lo, want_hi);
    free(ranges);
}

/* The device's VFIO cdev, from /sys/bus/pci/devices/BDF/vfio-dev/vfioN. */
static void vfio_cdev_path(const char *bdf, char *out, size_t len)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "/sys/bus/pci/devices/%s/vfio-dev", bdf);
    DIR *d = opendir(dir);
    if (!d)
        die("%s: %s (bound to vfio-pci? kernel with CONFIG_VFIO_DEVICE_CDEV?)", dir, strerror(errno));
    struct dirent *e;
    out[0] = 0;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "vfio", 4))
            snprintf(out, len, "/dev/vfio/devices/%s", e->d_name);
    closedir(d);
    if (!out[0])
        die("no vfioN under %s", dir);
}

/* Opens the device's cdev, binds it to iommufd and attaches it to the IOAS;
 * returns the device fd. */
static int iommufd_attach(const char *bdf)
{
    char path[PATH_MAX];
    vfio_cdev_path(bdf, path, sizeof path);
    int fd = open(path, O_RDWR);
    if (fd < 0)
        die("open %s: %s", path, strerror(errno));
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof bind, .iommufd = iommufd };
    if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
        die("VFIO_DEVICE_BIND_IOMMUFD(%s): %s", path, strerror(errno));
    struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof at, .pt_id = ioas_id };
    if (ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
        die("VFIO_DEVICE_ATTACH_IOMMUFD_PT(%s, IOAS %u): %s", path, ioas_id, strerror(errno));
    printf("device %s: cdev %s, bound (devid %u), attached to IOAS %u (hw pagetable %u)\n", bdf, path,
           bind.out_devid, ioas_id, at.pt_id);
    return fd;
}

/* /dev/iommu, one IOAS, the edu and any others attached to it. */
static enum mode iommufd_open(const char *bdf, char **others, int n_others)
{
    if ((iommufd = open("/dev/iommu", O_RDWR)) < 0)
        die("open /dev/iommu: %s (kernel without iommufd?)", strerror(errno));
    struct iommu_ioas_alloc alloc = { .size = sizeof alloc };
    if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
        die("IOMMU_IOAS_ALLOC: %s", strerror(errno));
    ioas_id = alloc.out_ioas_id;
    printf("iommu: iommufd, IOAS %u\n", ioas_id);
    device = iommufd_attach(bdf);
    for (int i = 0; i < n_others; i++)
        iommufd_attach(others[i]);   /* kept open until exit */
    return MODE_IOMMUFD;
}
#endif

static int dma_map(void *va, uint64_t iova, uint64_t size)
{
#if HAVE_IOMMUFD
    if (iommufd >= 0) {
        struct iommu_ioas_map m = {
            .size = sizeof m,
            .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
            .ioas_id = ioas_id,
            .user_va = (uintptr_t)va,
            .length = size,
            .iova = iova,
        };
        return ioctl(iommufd, IOMMU_IOAS_MAP, &m);
    }
#endif
    struct vfio_iommu_type1_dma_map m = {
        .argsz = sizeof m,
        .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
        .vaddr = (uintptr_t)va,
        .iova = iova,
        .size = size,
    };
    return ioctl(container, VFIO_IOMMU_MAP_DMA, &m);
}

static int dma_unmap(uint64_t iova, uint64_t size)
{
#if HAVE_IOMMUFD
    if (iommufd >= 0) {
        struct iommu_ioas_unmap u = { .size = sizeof u, .ioas_id = ioas_id, .iova = iova, .length = size };
        return ioctl(iommufd, IOMMU_IOAS_UNMAP, &u);
    }
#endif
    struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = iova, .size = size };
    return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u);
}

/* Opens container, group and device; returns the mode found. */
static enum mode vfio_open(const char *bdf)
{
    char path[PATH_MAX + 32], link[PATH_MAX];
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdf);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0)
        die("%s: %s (is the device bound to vfio-pci?)", path, strerror(errno));
    link[n] = 0;
    const char *gnum = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;

    enum mode mode = MODE_TYPE1;
    snprintf(path, sizeof path, "/dev/vfio/%s", gnum);
    if (access(path, F_OK)) {
        snprintf(path, sizeof path, "/dev/vfio/noiommu-%s", gnum);
        mode = MODE_NOIOMMU;
    }
    printf("device %s: IOMMU group %s, node %s\n", bdf, gnum, path);

    if ((container = open("/dev/vfio/vfio", O_RDWR)) < 0)
        die("open /dev/vfio/vfio: %s", strerror(errno));
    int api = ioctl(container, VFIO_GET_API_VERSION);
    if (api != VFIO_API_VERSION)
        die("VFIO API version %d, expected %d", api, VFIO_API_VERSION);
    if ((group = open(path, O_RDWR)) < 0)
        die("open %s: %s", path, strerror(errno));

    struct vfio_group_status st = { .argsz = sizeof st };
    if (ioctl(group, VFIO_GROUP_GET_STATUS, &st))
        die("VFIO_GROUP_GET_STATUS: %s", strerror(errno));
    check(st.flags & VFIO_GROUP_FLAGS_VIABLE, "group is viable (all its devices bound to vfio)");
    if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
        exit(1);
    if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
        die("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));

    if (mode == MODE_TYPE1) {
        int type = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ? VFIO_TYPE1v2_IOMMU
                 : ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0   ? VFIO_TYPE1_IOMMU
                                                                                   : -1;
        if (type < 0)
            die("container supports no type1 IOMMU");
        if (ioctl(container, VFIO_SET_IOMMU, type))
            die("VFIO_SET_IOMMU(type1): %s", strerror(errno));
        printf("iommu: %s\n", type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1");
    } else {
        if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU) <= 0)
            die("container lacks VFIO_NOIOMMU_IOMMU");
        if (ioctl(container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU))
            die("VFIO_SET_IOMMU(noiommu): %s", strerror(errno));
        printf("iommu: none (unsafe no-IOMMU mode)\n");
    }

    if ((device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf)) < 0)
        die("VFIO_GROUP_GET_DEVICE_FD(%s): %s", bdf, strerror(errno));
    return mode;
}

static struct vfio_region_info vfio_region(unsigned index)
{
    struct vfio_region_info ri = { .argsz = sizeof ri, .index = index };
    if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri))
        die("VFIO_DEVICE_GET_REGION_INFO(%u): %s", index, strerror(errno));
    return ri;
}

/* ----- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *bdf = getenv("DMADIRECT_RIG_EDU_BDF");
    int use_uio = 0, use_iommufd = 0, truncation = 0, n_others = 0;
    char **others = calloc(argc, sizeof *others);
    uint32_t count = 4000;
    uint64_t iova = 0x100000, mask = 0x0fffffff;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--uio")) use_uio = 1;
        else if (!strcmp(a, "--iommufd")) use_iommufd = 1;
        else if (use_iommufd && a[0] != '-') others[n_others++] = argv[i];
        else if (!strcmp(a, "--truncation")) truncation = 1;
        else if (!strcmp(a, "--bdf") && v) bdf = v, i++;
        else if (!strcmp(a, "--count") && v) count = strtoul(v, NULL, 0), i++;
        else if (!strcmp(a, "--iova") && v) iova = strtoull(v, NULL, 0), i++;
        else if (!strcmp(a, "--mask") && v) mask = strtoull(v, NULL, 0), i++;
        else die("usage: edu_vfio [--bdf BDF] [--uio | --iommufd [BDF...]] [--count N<=%u] [--iova A] [--mask M] "
                 "[--truncation]", EDU_MAX_COUNT);
    }
    if (count == 0 || count > EDU_MAX_COUNT)
        die("count must be 1..%u (QEMU 7.2's edu aborts at 4096)", EDU_MAX_COUNT);
    if (iova % PAGE)
        die("iova must be page aligned");
    if (use_uio && use_iommufd)
        die("--uio and --iommufd exclude each other");
    if (use_iommufd && !HAVE_IOMMUFD)
        die("built without the iommufd uapi headers (Linux >= 6.6): see selftest.sh");
    if (!bdf && !(bdf = find_edu()))
        die("no edu device (1234:11e8) found");

    /* ---- open the device, map BAR0, enable bus mastering ---- */
    enum mode mode;
    int cfg_fd;
    off_t cfg_off;
    size_t bar_len;
    char path[PATH_MAX];
    if (use_uio) {
        mode = MODE_UIO;
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/config", bdf);
        if ((cfg_fd = open(path, O_RDWR)) < 0)
            die("open %s: %s", path, strerror(errno));
        cfg_off = 0;
        /* BAR0's size from the first line of 'resource': start end flags. */
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/resource", bdf);
        FILE *rf = fopen(path, "r");
        unsigned long long start = 0, end = 0;
        if (!rf || fscanf(rf, "%llx %llx", &start, &end) != 2 || end <= start)
            die("cannot read BAR0 size from %s", path);
        fclose(rf);
        bar_len = (size_t)(end - start + 1);
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/resource0", bdf);
        int r = open(path, O_RDWR);
        if (r < 0)
            die("open %s: %s", path, strerror(errno));
        bar0 = mmap(NULL, bar_len, PROT_READ | PROT_WRITE, MAP_SHARED, r, 0);
        if (bar0 == MAP_FAILED)
            die("mmap resource0: %s", strerror(errno));
        printf("device %s: uio, BAR0 %zu KiB via sysfs\n", bdf, bar_len >> 10);
    } else {
#if HAVE_IOMMUFD
        mode = use_iommufd ? iommufd_open(bdf, others, n_others) : vfio_open(bdf);
#else
        mode = vfio_open(bdf);
#endif
        struct vfio_device_info di = { .argsz = sizeof di };
        if (ioctl(device, VFIO_DEVICE_GET_INFO, &di))
            die("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
        printf("device: %u regions, %u irqs, flags 0x%x\n", di.num_regions, di.num_irqs, di.flags);
        struct vfio_region_info b = vfio_region(VFIO_PCI_BAR0_REGION_INDEX);
        printf("BAR0: size 0x%llx offset 0x%llx flags 0x%x\n", (unsigned long long)b.size,
               (unsigned long long)b.offset, b.flags);
        if (!(b.flags & VFIO_REGION_INFO_FLAG_MMAP))
            die("BAR0 cannot be mmapped");
        bar_len = b.size;
        bar0 = mmap(NULL, bar_len, PROT_READ | PROT_WRITE, MAP_SHARED, device, (off_t)b.offset);
        if (bar0 == MAP_FAILED)
            die("mmap BAR0: %s", strerror(errno));
        cfg_fd = device;
        cfg_off = (off_t)vfio_region(VFIO_PCI_CONFIG_REGION_INDEX).offset;
    }
    printf("mode: %s\n", mode_name[mode]);
    const int iova_mode = mode == MODE_TYPE1 || mode == MODE_IOMMUFD;

    uint16_t cmd;
    if (pread(cfg_fd, &cmd, 2, cfg_off + PCI_COMMAND) != 2)
        die("read PCI_COMMAND: %s", strerror(errno));
    cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    if (pwrite(cfg_fd, &cmd, 2, cfg_off + PCI_COMMAND) != 2)
        die("write PCI_COMMAND: %s", strerror(errno));
    if (pread(cfg_fd, &cmd, 2, cfg_off + PCI_COMMAND) != 2)
        die("read PCI_COMMAND: %s", strerror(errno));
    check(cmd & PCI_COMMAND_MASTER, "bus mastering enabled (PCI_COMMAND=0x%04x)", cmd);

    /* ---- registers ---- */
    uint32_t id = rd32(EDU_ID);
    check(id == EDU_ID_VALUE, "edu id register 0x%08x (expect 0x%08x)", id, EDU_ID_VALUE);
    wr32(EDU_LIVENESS, 0x12345678);
    uint32_t live = rd32(EDU_LIVENESS);
    check(live == ~0x12345678u, "liveness: wrote 0x12345678, read 0x%08x", live);

    /* ---- DMA buffers: page 0 = source, page 1 = destination ---- */
    uint8_t *src, *dst;
    uint64_t src_dma, dst_dma;
    if (iova_mode) {
        uint8_t *buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED)
            die("mmap buffer: %s", strerror(errno));
        src = buf;
        dst = buf + PAGE;
        src_dma = iova;
        dst_dma = iova + PAGE;
#if HAVE_IOMMUFD
        if (mode == MODE_IOMMUFD)
            iommufd_print_ranges(iova, iova + 2 * PAGE - 1);
        else
#endif
            vfio_print_iommu_info(iova, iova + 2 * PAGE - 1);
        if (iova + 2 * PAGE - 1 > mask)
            printf("note: IOVA 0x%" PRIx64 " is above the edu DMA mask 0x%" PRIx64 "\n", iova, mask);
        if (dma_map(buf, iova, 2 * PAGE))
            die("%s map (iova 0x%" PRIx64 "): %s", mode_name[mode], iova, strerror(errno));
        printf("mapped %u bytes at IOVA 0x%" PRIx64 " (vaddr %p)\n", 2 * PAGE, iova, (void *)buf);
    } else {
        /* No IOMMU: the device sees physical addresses. Lock a pool and pick
         * pages the edu can reach (below its DMA mask). */
        size_t pool_len = 64u << 20, cur = 0;
        uint8_t *pool = mmap(NULL, pool_len, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (pool == MAP_FAILED)
            die("mmap pool: %s", strerror(errno));
        if (mlock(pool, pool_len))
            die("mlock: %s", strerror(errno));
        src = low_page(pool, pool_len, mask, &cur, &src_dma);
        dst = low_page(pool, pool_len, mask, &cur, &dst_dma);
        printf("physical pages: src 0x%" PRIx64 " dst 0x%" PRIx64 " (below mask 0x%" PRIx64 ")\n",
               src_dma, dst_dma, mask);
    }

    for (uint32_t i = 0; i < PAGE; i++)
        src[i] = pattern(i);
    memset(dst, 0, PAGE);

    double t0 = now();
    int rc1 = edu_dma(src_dma, EDU_BUF_ADDR, count, 0);
    double t1 = now();
    int rc2 = edu_dma(EDU_BUF_ADDR, dst_dma, count, 1);
    double t2 = now();
    check(rc1 == 0, "DMA RAM->device: %u bytes from 0x%" PRIx64 " in %.3f s", count, src_dma, t1 - t0);
    check(rc2 == 0, "DMA device->RAM: %u bytes to 0x%" PRIx64 " in %.3f s", count, dst_dma, t2 - t1);
    size_t first_bad = count;
    for (size_t i = 0; i < count; i++)
        if (dst[i] != src[i]) {
            first_bad = i;
            break;
        }
    int tail_clean = 1;
    for (size_t i = count; i < PAGE; i++)
        tail_clean &= dst[i] == 0;
    if (first_bad == count)
        check(1, "DMA compare: %u bytes MATCH", count);
    else
        check(0, "DMA compare: mismatch at byte %zu (got 0x%02x, want 0x%02x)", first_bad, dst[first_bad],
              src[first_bad]);
    check(tail_clean, "no bytes written past the transfer");

    /* ---- 28-bit truncation, IOMMU modes only (in PA mode it would corrupt) ---- */
    if (truncation && iova_mode) {
        const uint64_t high = 0x10300000, alias = high & mask;
        if (alias == high) {
            printf("truncation: mask 0x%" PRIx64 " covers 0x%" PRIx64 "; nothing to show\n", mask, high);
        } else {
            uint8_t *lo = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            uint8_t *hi = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (lo == MAP_FAILED || hi == MAP_FAILED)
                die("mmap: %s", strerror(errno));
            memset(lo, 0, PAGE);
            memset(hi, 0, PAGE);
            if (dma_map(lo, alias, PAGE) || dma_map(hi, high, PAGE))
                die("%s map (truncation buffers): %s", mode_name[mode], strerror(errno));
            /* The device buffer still holds the pattern from the round trip. */
            int rc = edu_dma(EDU_BUF_ADDR, high, count, 1);
            int lo_got = !memcmp(lo, src, count), hi_got = !memcmp(hi, src, count);
            check(rc == 0 && lo_got && !hi_got,
                  "truncation: DMA to IOVA 0x%" PRIx64 " landed at IOVA 0x%" PRIx64
                  " (alias %s, intended buffer %s)",
                  high, alias, lo_got ? "written" : "untouched", hi_got ? "written" : "untouched");

            /* Now without the alias mapped: the IOMMU must stop the write. */
            if (dma_unmap(alias, PAGE))
                die("%s unmap: %s", mode_name[mode], strerror(errno));
            memset(hi, 0, PAGE);
            memset(lo, 0, PAGE);
            rc = edu_dma(EDU_BUF_ADDR, high, count, 1);
            int hi_clean = 1;
            for (size_t i = 0; i < PAGE; i++)
                hi_clean &= hi[i] == 0;
            check(rc == 0 && hi_clean && lo[0] == 0,
                  "truncation: with IOVA 0x%" PRIx64 " unmapped the data is not delivered anywhere "
                  "(expect 'DMAR: [DMA Write' fault addr 0x%" PRIx64 " in the kernel log)",
                  alias, alias);
        }
    }

    printf("%s: %d check(s) failed\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
