/* The elementwise part of the GRU cell's backward (motornet_core.kernels.GRUCellFunction): from the
 * output's gradient g and the forward's gates to the gradients of the two gate pre-activations and of
 * the biases; the matrix products stay with PyTorch (BLAS).
 *
 * Layout (C-contiguous): g, h, r, z, n (B, H); gh (B, 3 H) = h W_hh^T + b_hh (its last H columns are
 * h_n).  Out: g_i (B, 3 H) of x W_ih^T + b_ih, g_hg (B, 3 H) of gh, g_hz (B, H) = g z (the direct part
 * of h's gradient), g_b_ih and g_b_hh (3 H): the column sums of g_i and g_hg.
 */
#include <stddef.h>

#define DEFINE_GRU(REAL, SUFFIX)                                                                               \
    void gru_backward_##SUFFIX(long B, long H, const REAL *g, const REAL *h, const REAL *r, const REAL *z,     \
                               const REAL *n, const REAL *gh, REAL *g_i, REAL *g_hg, REAL *g_hz, REAL *g_b_ih, \
                               REAL *g_b_hh) {                                                                 \
        for (long k = 0; k < 3 * H; ++k) g_b_ih[k] = 0, g_b_hh[k] = 0;                                         \
        for (long b = 0; b < B; ++b) {                                                                         \
            const long o = b * H, o3 = b * 3 * H;                                                              \
            for (long k = 0; k < H; ++k) {                                                                     \
                REAL gk = g[o + k], zk = z[o + k], nk = n[o + k], rk = r[o + k];                               \
                REAL g_pre_n = gk * ((REAL)1 - zk) * ((REAL)1 - nk * nk);                                      \
                REAL g_pre_z = gk * (h[o + k] - nk) * (zk * ((REAL)1 - zk));                                   \
                REAL g_pre_r = g_pre_n * gh[o3 + 2 * H + k] * (rk * ((REAL)1 - rk));                           \
                REAL g_hn = g_pre_n * rk;                                                                      \
                g_i[o3 + k] = g_pre_r, g_i[o3 + H + k] = g_pre_z, g_i[o3 + 2 * H + k] = g_pre_n;               \
                g_hg[o3 + k] = g_pre_r, g_hg[o3 + H + k] = g_pre_z, g_hg[o3 + 2 * H + k] = g_hn;               \
                g_hz[o + k] = gk * zk;                                                                         \
                g_b_ih[k] += g_pre_r, g_b_ih[H + k] += g_pre_z, g_b_ih[2 * H + k] += g_pre_n;                  \
                g_b_hh[k] += g_pre_r, g_b_hh[H + k] += g_pre_z, g_b_hh[2 * H + k] += g_hn;                     \
            }                                                                                                  \
        }                                                                                                      \
    }

DEFINE_GRU(float, f32)
DEFINE_GRU(double, f64)
