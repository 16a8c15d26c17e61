/* gpu_peaks.c -- the table of gpu_peaks.h and the matching of device names.
 *
 * Numbers: NVIDIA's datasheets (and, for GeForce cards, the architecture
 * whitepapers), in TFLOP/s, DENSE.  Datasheets print the tensor-core figures "with
 * sparsity" (2:4 structured sparsity, marked *), which a training step never uses;
 * those are halved here.  FP16 is the FP16/BF16 tensor-core rate with FP32
 * accumulate (what autocast uses).  GPUs without TF32 (Volta, Turing) have their
 * FP32 rate in the TF32 column: PyTorch's allow_tf32 does nothing there.
 *
 *   H100 SXM5  "NVIDIA H100 Tensor Core GPU" datasheet: FP32 67, TF32 989*, FP16 1,979*
 *   H100 PCIe  same datasheet: FP32 51, TF32 756*, FP16 1,513*
 *   H100 NVL   same datasheet: FP32 60, TF32 835*, FP16 1,671*
 *   H200 SXM   "NVIDIA H200 Tensor Core GPU" datasheet: FP32 67, TF32 989*, FP16 1,979*
 *   H200 NVL   same datasheet: FP32 60, TF32 835*, FP16 1,671*
 *   A100       "NVIDIA A100 Tensor Core GPU" datasheet (40/80 GB, PCIe and SXM alike):
 *              FP32 19.5, TF32 156, FP16 312
 *   A30        datasheet: FP32 10.3, TF32 82, FP16 165
 *   A40        datasheet: FP32 37.4, TF32 74.8, FP16 149.7
 *   A10        datasheet: FP32 31.2, TF32 62.5, FP16 125
 *   L40S       datasheet: FP32 91.6, TF32 183, FP16 362.05
 *   L40        datasheet: FP32 90.5, TF32 90.5, FP16 181.05
 *   L4         datasheet: FP32 30.3, TF32 120*, FP16 242*
 *   V100       "NVIDIA Tesla V100" datasheet: SXM2 FP32 15.7 / tensor 125; PCIe 14 / 112;
 *              V100S PCIe 16.4 / 130
 *   T4         datasheet: FP32 8.1, FP16 mixed 65
 *   RTX 4090   "NVIDIA Ada GPU Architecture" whitepaper: FP32 82.6, TF32 82.6,
 *              FP16 (FP32 accumulate) 165.2
 *   RTX 3090   "NVIDIA Ampere GA102 GPU Architecture" whitepaper: FP32 35.6, TF32 35.6,
 *              FP16 (FP32 accumulate) 71
 */
#include "bench/gpu_peaks.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/* More specific rows first: the first row whose words all match wins.  A word with
 * a leading '!' must NOT be in the name (an RTX 4090 D is not an RTX 4090). */
static const gpu_peak peaks[] = {
    {"H100 PCIe", "H100 PCIE", {51, 378, 756.5}},
    {"H100 NVL", "H100 NVL", {60, 417.5, 835.5}},
    {"H100 SXM", "H100", {67, 494.5, 989.5}},
    {"H200 NVL", "H200 NVL", {60, 417.5, 835.5}},
    {"H200 SXM", "H200", {67, 494.5, 989.5}},
    {"A100", "A100", {19.5, 156, 312}},
    {"A30", "A30", {10.3, 82, 165}},
    {"A40", "A40", {37.4, 74.8, 149.7}},
    {"A10", "A10", {31.2, 62.5, 125}},
    {"L40S", "L40S", {91.6, 183, 362.05}},
    {"L40", "L40", {90.5, 90.5, 181.05}},
    {"L4", "L4", {30.3, 60, 121}},
    {"V100S PCIe", "V100S", {16.4, 16.4, 130}},
    {"V100 PCIe", "V100 PCIE", {14, 14, 112}},
    {"V100 SXM2", "V100", {15.7, 15.7, 125}},
    {"T4", "T4", {8.1, 8.1, 65}},
    {"RTX 4090", "RTX 4090 !D", {82.6, 82.6, 165.2}},
    {"RTX 3090", "RTX 3090 !TI", {35.6, 35.6, 71}},
};

/* Is `word` (len n) one of the words of `name`?  Words are split at anything but
 * letters and digits ("A100-SXM4-80GB" has A100, SXM4, 80GB). */
static int has_word(const char *name, const char *word, size_t n)
{
    for (const char *p = name; *p;) {
        while (*p && !isalnum((unsigned char)*p)) p++;
        const char *s = p;
        while (*p && isalnum((unsigned char)*p)) p++;
        if ((size_t)(p - s) != n || n == 0) continue;
        size_t i = 0;
        while (i < n && toupper((unsigned char)s[i]) == toupper((unsigned char)word[i])) i++;
        if (i == n) return 1;
    }
    return 0;
}

static int row_matches(const gpu_peak *r, const char *name)
{
    for (const char *t = r->tokens; *t;) {
        while (*t == ' ') t++;
        int neg = *t == '!';
        t += neg;
        size_t n = strcspn(t, " ");
        if (n && has_word(name, t, n) == neg) return 0;
        t += n;
    }
    return 1;
}

const gpu_peak *gpu_peak_find(const char *name)
{
    if (!name || !*name) return NULL;
    for (size_t i = 0; i < sizeof peaks / sizeof *peaks; i++)
        if (row_matches(&peaks[i], name)) return &peaks[i];
    return NULL;
}

double gpu_peak_tflops(const char *name, gpu_math m)
{
    const gpu_peak *p = gpu_peak_find(name);
    return p && m >= 0 && m < GPU_MATH_N ? p->tflops[m] : 0;
}

const char *gpu_math_name(gpu_math m)
{
    static const char *const names[GPU_MATH_N] = {"fp32", "tf32", "fp16"};
    return m >= 0 && m < GPU_MATH_N ? names[m] : "?";
}
