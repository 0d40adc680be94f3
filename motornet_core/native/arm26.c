/* One euler step of the two-link arm with rigid-tendon Hill muscles and polynomial geometry, and its
 * backward: motornet_core.kernels.Arm26HillStep as loops over the batch.
 *
 * The sines and cosines stay with PyTorch (its vectorised and scalar kernels round differently from the
 * C library's, so the caller computes them on the same tensors as the generic path) and come in as
 * arguments; every other operation is the generic path's, in its order, compiled with -ffp-contract=off.
 *
 * Layout (C-contiguous, B rows, M <= ARM_MAX_M muscles, J = 2 joints):
 *   q, qd (B, 2); a, force, glen, gvel, e (B, M); arm (B, 2, M); endpoint, joint (B, 2) or NULL;
 *   rf (B, 2): (arm * force[:, None, :]).sum(-1) as PyTorch computes it (its order of addition varies
 *   with M);
 *   trig: c2, s2 (B) of q[:, 1]; s1, c1, s12, c12 (B) of q[:, 0] and q[:, 0] + q[:, 1] (NULL without an
 *   endpoint load).
 *   c: constants, REAL[26 M + 21]: per muscle (M each) a_min, a_max, tau_act, tau_deact, max_iso_force,
 *      l0_ce, l0_se, l0_pe, k_pe, vmax, s_as, fl_width_sq, q_crit, a_rel, b_rel, min_fl,
 *      0.005 - q_crit, a0; per joint and muscle (2 M each) a1, a2, a3, 2 a2; then inertia_m (11, 12, 22),
 *      inertia_c (11, 12, 22), coriolis k, c_viscosity, L1, L2, -L1, -L2, vel_lb (2), vel_ub (2),
 *      pos_lb (2), pos_ub (2), damping.
 *
 * One row's arithmetic is written once (ARM26_ROW) over a value type REAL and its scalar type S, with
 * SEL(mask, x, y) for every data-dependent choice: instantiated on scalars (float, double) and, for
 * float, on GCC vectors of ARM_W rows, where SEL is a bitwise select. Vector +, -, *, / and comparisons
 * round exactly as the scalar ones (IEEE, no contraction), so the blocks of ARM_W rows give the scalar
 * rows' bits; rows past the last whole block take the scalar code. On x86-64 Linux the block loops are
 * also built for AVX2 and chosen at load time (target_clones).
 */
#include <math.h>
#include <stddef.h>

#define ARM_MAX_M 16

#define ARM_INLINE static inline __attribute__((always_inline))

/* Scalar instantiations: SEL is the conditional operator, BC the identity. */
#define ARM_SEL_S(c, x, y) ((c) ? (x) : (y))
#define ARM_BC_S(x) (x)

/* One row's step: the row struct, the forward (everything but geometry and fingertip), the outputs
 * (new geometry) and the backward (given the forward's struct). Row arrays: q, qd, rf, endpoint, joint
 * (2); a, glen, gvel, e, force (M); arm (2 M, joint-major); jt (s1, c1, s12, c12); tt (ts1, tc1, ts12,
 * tc12 of the new angles). Gradient pointers NULL: zero. */
#define ARM26_ROW(REAL, S, SEL, BC, TAG)                                                                       \
    typedef struct {                                                                                           \
        /* per muscle */                                                                                       \
        REAL u[ARM_MAX_M], ac[ARM_MAX_M], scale[ARM_MAX_M], tau[ARM_MAX_M], a_dot[ARM_MAX_M];                  \
        REAL a_raw[ARM_MAX_M], an[ARM_MAX_M], length[ARM_MAX_M], vn[ARM_MAX_M], stretch[ARM_MAX_M];            \
        REAL k_pe_stretch[ARM_MAX_M], f_pe[ARM_MAX_M], dl[ARM_MAX_M], fl_raw[ARM_MAX_M], f_ce[ARM_MAX_M];      \
        REAL big_a[ARM_MAX_M], b_base[ARM_MAX_M], big_b[ARM_MAX_M], f[ARM_MAX_M], f_ce_a[ARM_MAX_M];           \
        REAL two_a[ARM_MAX_M], t_den[ARM_MAX_M], den[ARM_MAX_M], p1[ARM_MAX_M], v_s[ARM_MAX_M];                \
        REAL v_l[ARM_MAX_M], vs_a[ARM_MAX_M], d_s[ARM_MAX_M], shortening[ARM_MAX_M], p1_v[ARM_MAX_M];          \
        REAL inner[ARM_MAX_M], lengthening[ARM_MAX_M], act[ARM_MAX_M], ln[ARM_MAX_M];                          \
        /* per joint */                                                                                        \
        REAL qa[2], qd1[2], qd2[2], qd3[2], qb[2], r[2], qdd[2];                                               \
        REAL m11, m12, m22, det, dq12, j11, j21, j12, j22;                                                     \
    } arm_row_##TAG;                                                                                           \
                                                                                                               \
    /* clamp and relu as torch's (NaN passes: every comparison with it is false) */                          \
    ARM_INLINE REAL arm_clamp_##TAG(REAL x, REAL lo, REAL hi) {                                                \
        REAL y = SEL(x < lo, lo, x);                                                                           \
        return SEL(y > hi, hi, y);                                                                             \
    }                                                                                                          \
    ARM_INLINE REAL arm_relu_##TAG(REAL x) { return SEL(x < (S)0, BC((S)0), x); }                              \
                                                                                                               \
    ARM_INLINE void arm_row_forward_##TAG(arm_row_##TAG *s, long M, S h, const S *c, const REAL *q,            \
                                          const REAL *qd, const REAL *a, const REAL *glen, const REAL *gvel,   \
                                          const REAL *e, const REAL *endpoint, const REAL *joint,              \
                                          const REAL *rf, REAL c2, REAL s2, const REAL *jt) {                  \
        const S *a_min = c, *a_max = c + M, *tau_act = c + 2 * M, *tau_deact = c + 3 * M;                      \
        const S *l0_ce = c + 5 * M, *l0_se = c + 6 * M, *l0_pe = c + 7 * M, *k_pe = c + 8 * M;                 \
        const S *vmax = c + 9 * M, *s_as = c + 10 * M, *fl_w = c + 11 * M, *q_crit = c + 12 * M;               \
        const S *a_rel = c + 13 * M, *b_rel = c + 14 * M, *min_fl = c + 15 * M, *qc_den = c + 16 * M;          \
        const S *k = c + 26 * M;                                                                               \
        const S im11 = k[0], im12 = k[1], im22 = k[2], ic11 = k[3], ic12 = k[4], ic22 = k[5];                  \
        const S kk = k[6], cv = k[7], L1 = k[8], L2 = k[9], nL1 = k[10], nL2 = k[11];                          \
        const S *vlb = k + 12, *vub = k + 14, *plb = k + 16, *pub = k + 18, damping = k[20];                   \
        for (long m = 0; m < M; ++m) {                                                                         \
            REAL u = arm_clamp_##TAG(e[m], BC(a_min[m]), BC(a_max[m]));                                        \
            REAL ac = arm_clamp_##TAG(a[m], BC(a_min[m]), BC(a_max[m]));                                       \
            REAL scale = (S)0.5 + (S)1.5 * ac;                                                                 \
            REAL tau = SEL(u > ac, tau_act[m] * scale, tau_deact[m] / scale);                                  \
            s->u[m] = u, s->ac[m] = ac, s->scale[m] = scale, s->tau[m] = tau, s->a_dot[m] = (u - ac) / tau;    \
        }                                                                                                      \
        REAL qf[2];                                                                                            \
        for (int j = 0; j < 2; ++j) {                                                                          \
            qf[j] = -rf[j]; /* PyTorch's sum of R F over the muscles (its order of addition) */              \
            if (joint) qf[j] = qf[j] + joint[j];                                                               \
            qf[j] = qf[j] - damping * qd[j];                                                                   \
        }                                                                                                      \
        REAL dq1 = qd[0], dq2 = qd[1];                                                                         \
        s->m11 = c2 * im11 + ic11, s->m12 = c2 * im12 + ic12, s->m22 = c2 * im22 + ic22;                       \
        s->dq12 = (S)2 * dq1 + dq2;                                                                            \
        REAL cor1 = s2 * (-kk) * s->dq12 * dq2 + cv * dq1;                                                     \
        REAL cor2 = s2 * kk * dq1 * dq1 + cv * dq2;                                                            \
        s->r[0] = qf[0] - cor1, s->r[1] = qf[1] - cor2;                                                        \
        if (endpoint) {                                                                                        \
            REAL s1 = jt[0], c1 = jt[1], s12 = jt[2], c12 = jt[3], fx = endpoint[0], fy = endpoint[1];         \
            s->j11 = nL1 * s1 - L2 * s12, s->j21 = L1 * c1 + L2 * c12, s->j12 = nL2 * s12, s->j22 = L2 * c12;  \
            s->r[0] = s->r[0] + s->j11 * fx + s->j21 * fy;                                                     \
            s->r[1] = s->r[1] + s->j12 * fx + s->j22 * fy;                                                     \
        }                                                                                                      \
        REAL r1 = s->r[0], r2 = s->r[1];                                                                       \
        s->det = s->m11 * s->m22 - s->m12 * s->m12;                                                            \
        REAL n12 = -s->m12;                                                                                    \
        s->qdd[0] = (s->m22 * r1 + n12 * r2) / s->det;                                                         \
        s->qdd[1] = (n12 * r1 + s->m11 * r2) / s->det;                                                         \
        for (long m = 0; m < M; ++m) {                                                                         \
            REAL a_raw = a[m] + h * s->a_dot[m];                                                               \
            REAL an = arm_clamp_##TAG(a_raw, BC(a_min[m]), BC(a_max[m]));                                      \
            REAL length = arm_relu_##TAG(glen[m] - l0_se[m]);                                                  \
            REAL ln = length / l0_ce[m];                                                                       \
            REAL vn = gvel[m] / vmax[m];                                                                       \
            REAL stretch = arm_relu_##TAG((length - l0_pe[m]) / l0_ce[m]);                                     \
            REAL kps = k_pe[m] * stretch;                                                                      \
            REAL dl = ln - (S)1;                                                                               \
            REAL fl_raw = (S)1 - dl * dl / fl_w[m];                                                            \
            REAL f_ce = SEL(fl_raw != fl_raw, fl_raw, SEL(fl_raw > min_fl[m], fl_raw, BC(min_fl[m])));         \
            REAL big_a = SEL(ln > (S)1, a_rel[m] * f_ce, BC(a_rel[m]));                                        \
            REAL b_base = (S)1 - (S)0.9 * (an - q_crit[m]) / qc_den[m];                                        \
            REAL big_b = SEL(an < q_crit[m], b_rel[m] * (b_base * b_base), BC(b_rel[m]));                      \
            REAL f = an * f_ce;                                                                                \
            REAL f_ce_a = f_ce + big_a;                                                                        \
            REAL two_a = (S)2 * an;                                                                            \
            REAL t_den = two_a * f_ce_a / big_b;                                                               \
            REAL den = s_as[m] - t_den;                                                                        \
            REAL p1 = (S)-0.5 * f / den;                                                                       \
            REAL v_s = SEL(vn != vn, vn, SEL(vn > (S)0, BC((S)0), vn));                                        \
            REAL v_l = SEL(vn != vn, vn, SEL(vn < (S)0, BC((S)0), vn));                                        \
            REAL vs_a = v_s * an;                                                                              \
            REAL d_s = big_b - v_s;                                                                            \
            REAL shortening = (vs_a * big_a + f * big_b) / d_s;                                                \
            REAL p1_v = p1 + v_l;                                                                              \
            REAL inner = s_as[m] * p1_v + (S)1.5 * f;                                                          \
            REAL lengthening = (f * p1 + v_l * inner) / p1_v;                                                  \
            REAL act = arm_relu_##TAG(SEL(vn < (S)0, shortening, lengthening));                                \
            s->a_raw[m] = a_raw, s->an[m] = an, s->length[m] = length, s->ln[m] = ln, s->vn[m] = vn;           \
            s->stretch[m] = stretch, s->k_pe_stretch[m] = kps, s->f_pe[m] = kps * stretch, s->dl[m] = dl;      \
            s->fl_raw[m] = fl_raw, s->f_ce[m] = f_ce, s->big_a[m] = big_a, s->b_base[m] = b_base;              \
            s->big_b[m] = big_b, s->f[m] = f, s->f_ce_a[m] = f_ce_a, s->two_a[m] = two_a;                      \
            s->t_den[m] = t_den, s->den[m] = den, s->p1[m] = p1, s->v_s[m] = v_s, s->v_l[m] = v_l;             \
            s->vs_a[m] = vs_a, s->d_s[m] = d_s, s->shortening[m] = shortening, s->p1_v[m] = p1_v;              \
            s->inner[m] = inner, s->lengthening[m] = lengthening, s->act[m] = act;                             \
        }                                                                                                      \
        for (int j = 0; j < 2; ++j) {                                                                          \
            s->qd1[j] = qd[j] + h * s->qdd[j];                                                                 \
            s->qa[j] = q[j] + h * qd[j];                                                                       \
            s->qd2[j] = arm_clamp_##TAG(s->qd1[j], BC(vlb[j]), BC(vub[j]));                                    \
            REAL lo = SEL(s->qa[j] <= plb[j], BC((S)0), BC(-(S)INFINITY));                                     \
            REAL hi = SEL(s->qa[j] >= pub[j], BC((S)0), BC((S)INFINITY));                                      \
            s->qd3[j] = arm_clamp_##TAG(s->qd2[j], lo, hi);                                                    \
            s->qb[j] = arm_clamp_##TAG(s->qa[j], BC(plb[j]), BC(pub[j]));                                      \
        }                                                                                                      \
    }                                                                                                          \
                                                                                                               \
    /* The step's outputs from the row (new geometry at the limited angles): a', fibre length, F', F_PE,   \
     * F_CE, active force, new length and velocity (M), moment arms (2 M), qb and qd3 (2). */                \
    ARM_INLINE void arm_row_outputs_##TAG(const arm_row_##TAG *s, long M, const S *c, REAL *an, REAL *len,    \
                                          REAL *fnew, REAL *fpe, REAL *fce, REAL *act, REAL *nlen,             \
                                          REAL *nvel, REAL *narm, REAL *qb, REAL *qd) {                        \
        const S *fmax = c + 4 * M, *a0 = c + 17 * M, *a1 = c + 18 * M, *a2 = c + 20 * M;                       \
        const S *a3 = c + 22 * M, *two_a2 = c + 24 * M;                                                        \
        for (long m = 0; m < M; ++m) {                                                                         \
            an[m] = s->an[m], len[m] = s->length[m];                                                           \
            fnew[m] = (s->act[m] + s->f_pe[m]) * fmax[m];                                                      \
            fpe[m] = s->f_pe[m], fce[m] = s->f_ce[m], act[m] = s->act[m];                                      \
            REAL x0 = s->qb[0] - a3[m], x1 = s->qb[1] - a3[M + m];                                             \
            REAL r0 = a1[m] + two_a2[m] * x0, r1 = a1[M + m] + two_a2[M + m] * x1;                             \
            nlen[m] = a0[m] + ((a1[m] + a2[m] * x0) * x0 + (a1[M + m] + a2[M + m] * x1) * x1);                 \
            nvel[m] = s->qd3[0] * r0 + s->qd3[1] * r1;                                                         \
            narm[m] = r0, narm[M + m] = r1;                                                                    \
        }                                                                                                      \
        qb[0] = s->qb[0], qb[1] = s->qb[1], qd[0] = s->qd3[0], qd[1] = s->qd3[1];                              \
    }                                                                                                          \
                                                                                                               \
    ARM_INLINE void arm_row_backward_##TAG(                                                                    \
        const arm_row_##TAG *s, long M, S h, const S *c, const REAL *qd, const REAL *fb, const REAL *Rb,      \
        const REAL *ab, const REAL *eb, const REAL *endpoint, REAL c2, REAL s2, const REAL *tt,               \
        const REAL *g_qb, const REAL *g_qd3, const REAL *g_an, const REAL *g_mlen, const REAL *g_fnew,        \
        const REAL *g_fpe, const REAL *g_fce, const REAL *g_act, const REAL *g_nlen, const REAL *g_nvel,      \
        const REAL *g_narm, const REAL *g_tip, REAL *o_q, REAL *o_qd, REAL *o_a, REAL *o_force,               \
        REAL *o_glen, REAL *o_gvel, REAL *o_arm, REAL *o_e, REAL *o_Q, REAL *o_ep) {                          \
        const S *fmax = c + 4 * M, *l0_ce = c + 5 * M;                                                         \
        const S *vmax = c + 9 * M, *s_as = c + 10 * M, *fl_w = c + 11 * M, *q_crit = c + 12 * M;               \
        const S *a_rel = c + 13 * M, *b_rel = c + 14 * M, *min_fl = c + 15 * M, *qc_den = c + 16 * M;          \
        const S *two_a2 = c + 24 * M;                                                                          \
        const S *k = c + 26 * M;                                                                               \
        const S i11 = k[0], i12 = k[1], i22 = k[2], kk = k[6], cv = k[7], L1 = k[8], L2 = k[9];                \
        const S *a1 = c + 18 * M, *a3 = c + 22 * M, damping = k[20];                                           \
        const REAL zero = BC((S)0);                                                                            \
        REAL gq[2], gw[2];                                                                                     \
        for (int j = 0; j < 2; ++j) {                                                                          \
            gq[j] = g_qb ? g_qb[j] : zero;                                                                     \
            gw[j] = g_qd3 ? g_qd3[j] : zero;                                                                   \
        }                                                                                                      \
        if (g_tip) {                                                                                           \
            REAL gx = g_tip[0], gy = g_tip[1], gxd = g_tip[2], gyd = g_tip[3], w1 = s->qd3[0], w2 = s->qd3[1]; \
            REAL ts1 = tt[0], tc1 = tt[1], ts12 = tt[2], tc12 = tt[3];                                         \
            REAL tx = L1 * tc1 + L2 * tc12, ty = L1 * ts1 + L2 * ts12;                                         \
            REAL g_x = gx + gyd * w1, g_y = gy - gxd * w1;                                                     \
            REAL g_c12 = g_x + gyd * w2, g_s12 = g_y - gxd * w2;                                               \
            REAL g_t12 = (g_s12 * tc12 - g_c12 * ts12) * L2;                                                   \
            gq[0] += g_t12 + (g_y * tc1 - g_x * ts1) * L1;                                                     \
            gq[1] += g_t12;                                                                                    \
            gw[0] += gyd * tx - gxd * ty;                                                                      \
            gw[1] += (gyd * tc12 - gxd * ts12) * L2;                                                           \
        }                                                                                                      \
        /* polynomial geometry: L = a0 + sum_j (a1 + a2 x) x, R = a1 + 2 a2 x, V = sum_j qd_j R_j */           \
        for (long m = 0; m < M; ++m) {                                                                         \
            REAL gnv = g_nvel ? g_nvel[m] : zero, gnl = g_nlen ? g_nlen[m] : zero;                             \
            for (int j = 0; j < 2; ++j) {                                                                      \
                REAL x = s->qb[j] - a3[j * M + m];                                                             \
                REAL rj = a1[j * M + m] + two_a2[j * M + m] * x;                                               \
                REAL g_arm = (g_narm ? g_narm[j * M + m] : zero) + gnv * s->qd3[j];                            \
                gw[j] += gnv * rj;                                                                             \
                gq[j] += g_arm * two_a2[j * M + m] + gnl * rj;                                                 \
            }                                                                                                  \
        }                                                                                                      \
        /* joint limits, then q' = q + h qd, qd' = qd + h qdd */                                               \
        REAL g_qa[2], g_qd1[2];                                                                                \
        for (int j = 0; j < 2; ++j) {                                                                          \
            g_qa[j] = SEL(s->qb[j] == s->qa[j], gq[j], zero);                                                  \
            g_qd1[j] = SEL((s->qd3[j] == s->qd2[j]) & (s->qd2[j] == s->qd1[j]), gw[j], zero);                  \
        }                                                                                                      \
        /* qdd = M^-1 r */                                                                                     \
        REAL g1 = g_qd1[0] * h / s->det, g2 = g_qd1[1] * h / s->det;                                           \
        REAL r1 = s->r[0], r2 = s->r[1];                                                                       \
        REAL g_r1 = g1 * s->m22 - g2 * s->m12, g_r2 = g2 * s->m11 - g1 * s->m12;                               \
        REAL g_det = -(g1 * s->qdd[0] + g2 * s->qdd[1]);                                                       \
        REAL g_m11 = g2 * r2 + g_det * s->m22, g_m22 = g1 * r1 + g_det * s->m11;                               \
        REAL g_m12 = g1 * r2 + g2 * r1 + (S)2 * g_det * s->m12; /* minus d / d m12 */                          \
        REAL g_c2 = g_m11 * i11 - g_m12 * i12 + g_m22 * i22;                                                   \
        REAL dq1 = qd[0], dq2 = qd[1];                                                                         \
        REAL g_s2 = (g_r1 * s->dq12 * dq2 - g_r2 * dq1 * dq1) * kk;                                            \
        REAL ks2 = kk * s2;                                                                                    \
        REAL g_dq1 = (g_r1 * dq2 - g_r2 * dq1) * ((S)2 * ks2) - g_r1 * cv;                                     \
        REAL g_dq2 = g_r1 * ks2 * (s->dq12 + dq2) - g_r2 * cv;                                                 \
        REAL g_q2 = g_s2 * c2 - g_c2 * s2, g_q1 = zero;                                                        \
        if (endpoint) {                                                                                        \
            REAL fx = endpoint[0], fy = endpoint[1];                                                           \
            o_ep[0] = g_r1 * s->j11 + g_r2 * s->j12;                                                           \
            o_ep[1] = g_r1 * s->j21 + g_r2 * s->j22;                                                           \
            REAL d12 = s->j12 * fy - s->j22 * fx;                                                              \
            g_q1 = g_r1 * (s->j11 * fy - s->j21 * fx) + g_r2 * d12;                                            \
            g_q2 += (g_r1 + g_r2) * d12;                                                                       \
        }                                                                                                      \
        o_q[0] = g_qa[0] + g_q1, o_q[1] = g_qa[1] + g_q2;                                                      \
        o_Q[0] = g_r1, o_Q[1] = g_r2;                                                                          \
        o_qd[0] = g_qd1[0] + g_dq1 - damping * g_r1 + h * g_qa[0];                                             \
        o_qd[1] = g_qd1[1] + g_dq2 - damping * g_r2 + h * g_qa[1];                                             \
        /* the Hill muscle at (a', the input geometry), then activation dynamics */                            \
        for (long m = 0; m < M; ++m) {                                                                         \
            o_force[m] = -(g_r1 * Rb[m] + g_r2 * Rb[M + m]);                                                   \
            o_arm[m] = g_r1 * -fb[m], o_arm[M + m] = g_r2 * -fb[m];                                            \
            REAL gfn = g_fnew ? g_fnew[m] * fmax[m] : zero;                                                    \
            REAL g_actf = gfn + (g_act ? g_act[m] : zero);                                                     \
            REAL g_pe = gfn + (g_fpe ? g_fpe[m] : zero);                                                       \
            REAL g_len_m = g_mlen ? g_mlen[m] : zero;                                                          \
            REAL g_fce_t = g_fce ? g_fce[m] : zero;                                                            \
            REAL g_a_out = g_an ? g_an[m] : zero;                                                              \
            REAL vn = s->vn[m], f = s->f[m], an = s->an[m], big_a = s->big_a[m], big_b = s->big_b[m];          \
            REAL g_sel = SEL(s->act[m] > (S)0, g_actf, zero);                                                  \
            REAL g_sh = SEL(vn < (S)0, g_sel, zero), g_le = g_sel - g_sh;                                      \
            REAL g_ns = g_sh / s->d_s[m], g_nl = g_le / s->p1_v[m];                                            \
            REAL g_p1v = g_nl * (s->v_l[m] * s_as[m] - s->lengthening[m]);                                     \
            REAL g_f = g_ns * big_b + g_nl * (s->p1[m] + (S)1.5 * s->v_l[m]);                                  \
            REAL g_p1 = g_p1v + g_nl * f;                                                                      \
            REAL g_vl = g_p1v + g_nl * s->inner[m];                                                            \
            REAL g_vs = g_ns * (an * big_a + s->shortening[m]);                                                \
            REAL g_A = g_ns * s->vs_a[m];                                                                      \
            REAL g_B = g_ns * (f - s->shortening[m]);                                                          \
            REAL g_a_m = g_ns * (s->v_s[m] * big_a);                                                           \
            REAL g_p1_den = g_p1 / s->den[m];                                                                  \
            g_f += (S)-0.5 * g_p1_den;                                                                         \
            REAL g_t = g_p1_den * s->p1[m] / big_b;                                                            \
            g_a_m += (S)2 * g_t * s->f_ce_a[m];                                                                \
            REAL g_fa = g_t * s->two_a[m];                                                                     \
            g_A += g_fa;                                                                                       \
            g_B -= g_t * s->t_den[m];                                                                          \
            g_a_m += g_f * s->f_ce[m];                                                                         \
            g_fce_t += g_fa + g_f * an + SEL(s->ln[m] > (S)1, g_A * a_rel[m], zero);                           \
            g_a_m = SEL(an < q_crit[m], g_a_m + g_B * ((S)-1.8 * b_rel[m] / qc_den[m]) * s->b_base[m], g_a_m); \
            g_a_out += g_a_m;                                                                                  \
            REAL g_gv = (SEL(s->v_s[m] == vn, g_vs, zero) + SEL(s->v_l[m] == vn, g_vl, zero)) / vmax[m];       \
            REAL fl_raw = s->fl_raw[m];                                                                        \
            REAL m_fl = SEL(fl_raw > min_fl[m], BC((S)1), SEL(fl_raw == min_fl[m], BC((S)0.5), zero));         \
            g_len_m += g_fce_t * (m_fl * s->dl[m] * ((S)-2 / (fl_w[m] * l0_ce[m])));                           \
            g_len_m = SEL(s->stretch[m] > (S)0, g_len_m + g_pe * s->k_pe_stretch[m] * ((S)2 / l0_ce[m]),       \
                          g_len_m);                                                                            \
            o_glen[m] = SEL(s->length[m] > (S)0, g_len_m, zero);                                               \
            o_gvel[m] = g_gv;                                                                                  \
            REAL g_raw = SEL(s->an[m] == s->a_raw[m], g_a_out, zero);                                          \
            REAL g_u = g_raw * h / s->tau[m];                                                                  \
            REAL rising = SEL(s->u[m] > s->ac[m], BC((S)3), zero);                                             \
            REAL g_ac = -g_u - g_raw * (h * s->a_dot[m] * (rising - (S)1.5) / s->scale[m]);                    \
            o_a[m] = g_raw + SEL(s->ac[m] == ab[m], g_ac, zero);                                               \
            o_e[m] = SEL(s->u[m] == eb[m], g_u, zero);                                                         \
        }                                                                                                      \
    }

/* The exported drivers: blocks of rows through BLOCKS_FWD / BLOCKS_BWD (the number of rows they did),
 * the remaining rows through the scalar row code. */
#define ARM26_DRIVERS(S, SUFFIX, BLOCKS_FWD, BLOCKS_BWD)                                                       \
    int arm26_forward_##SUFFIX(long B, long M, double h_, const S *c, const S *q, const S *qd, const S *a,     \
                               const S *force, const S *glen, const S *gvel, const S *arm, const S *e,         \
                               const S *endpoint, const S *joint, const S *rf, const S *c2, const S *s2,       \
                               const S *s1, const S *c1, const S *s12, const S *c12, S *qb_out, S *qd_out,     \
                               S *an_out, S *len_out, S *f_out, S *fpe_out, S *fce_out, S *act_out,            \
                               S *nlen_out, S *nvel_out, S *narm_out) {                                        \
        if (M > ARM_MAX_M) return 1;                                                                           \
        (void)force, (void)arm;                                                                                \
        const S h = (S)h_;                                                                                     \
        arm_row_##SUFFIX s;                                                                                    \
        long b = BLOCKS_FWD(B, M, h, c, q, qd, a, glen, gvel, e, endpoint, joint, rf, c2, s2, s1, c1, s12, c12, \
                            qb_out, qd_out, an_out, len_out, f_out, fpe_out, fce_out, act_out, nlen_out,       \
                            nvel_out, narm_out);                                                               \
        for (; b < B; ++b) {                                                                                   \
            const long o = M * b, o2 = 2 * M * b;                                                              \
            S jt[4] = {0, 0, 0, 0};                                                                            \
            if (endpoint) jt[0] = s1[b], jt[1] = c1[b], jt[2] = s12[b], jt[3] = c12[b];                        \
            arm_row_forward_##SUFFIX(&s, M, h, c, q + 2 * b, qd + 2 * b, a + o, glen + o, gvel + o, e + o,     \
                                     endpoint ? endpoint + 2 * b : NULL, joint ? joint + 2 * b : NULL,         \
                                     rf + 2 * b, c2[b], s2[b], jt);                                            \
            arm_row_outputs_##SUFFIX(&s, M, c, an_out + o, len_out + o, f_out + o, fpe_out + o, fce_out + o,   \
                                     act_out + o, nlen_out + o, nvel_out + o, narm_out + o2, qb_out + 2 * b,   \
                                     qd_out + 2 * b);                                                          \
        }                                                                                                      \
        return 0;                                                                                              \
    }                                                                                                          \
                                                                                                               \
    /* The fingertip (B, 4) from the new angles' trig: ts1, tc1 of qb[:, 0], ts12, tc12 of their sum. */      \
    void arm26_tip_##SUFFIX(long B, const S *c, long M, const S *qd3, const S *ts1, const S *tc1,             \
                            const S *ts12, const S *tc12, S *tip) {                                            \
        const S L1 = c[26 * M + 8], L2 = c[26 * M + 9];                                                        \
        for (long b = 0; b < B; ++b) {                                                                         \
            S tx = L1 * tc1[b] + L2 * tc12[b], ty = L1 * ts1[b] + L2 * ts12[b];                                \
            S w1 = qd3[2 * b], w2 = qd3[2 * b + 1];                                                            \
            tip[4 * b] = tx, tip[4 * b + 1] = ty;                                                              \
            tip[4 * b + 2] = -ty * w1 - L2 * ts12[b] * w2;                                                     \
            tip[4 * b + 3] = tx * w1 + L2 * tc12[b] * w2;                                                      \
        }                                                                                                      \
    }                                                                                                          \
                                                                                                               \
    /* Backward: gradients of the 12 outputs in (NULL: zero), of the inputs out; g_Q (B, 2) is the joint    \
     * torques' gradient (the joint load's), g_ep (B, 2) the endpoint load's (written with one). */          \
    int arm26_backward_##SUFFIX(                                                                               \
        long B, long M, double h_, const S *c, const S *q, const S *qd, const S *a, const S *force,           \
        const S *glen, const S *gvel, const S *arm, const S *e, const S *endpoint, const S *joint,            \
        const S *rf, const S *c2, const S *s2, const S *s1, const S *c1, const S *s12, const S *c12,          \
        const S *ts1, const S *tc1, const S *ts12, const S *tc12, const S *g_qb, const S *g_qd3,              \
        const S *g_an, const S *g_mlen, const S *g_fnew, const S *g_fpe, const S *g_fce, const S *g_act,      \
        const S *g_nlen, const S *g_nvel, const S *g_narm, const S *g_tip, S *o_q, S *o_qd, S *o_a,           \
        S *o_force, S *o_glen, S *o_gvel, S *o_arm, S *o_e, S *o_Q, S *o_ep) {                                \
        if (M > ARM_MAX_M) return 1;                                                                           \
        const S h = (S)h_;                                                                                     \
        arm_row_##SUFFIX s;                                                                                    \
        long b = BLOCKS_BWD(B, M, h, c, q, qd, a, force, glen, gvel, arm, e, endpoint, joint, rf, c2, s2, s1,  \
                            c1, s12, c12, ts1, tc1, ts12, tc12, g_qb, g_qd3, g_an, g_mlen, g_fnew, g_fpe,      \
                            g_fce, g_act, g_nlen, g_nvel, g_narm, g_tip, o_q, o_qd, o_a, o_force, o_glen,      \
                            o_gvel, o_arm, o_e, o_Q, o_ep);                                                    \
        for (; b < B; ++b) {                                                                                   \
            const long o = M * b, o2 = 2 * M * b;                                                              \
            S jt[4] = {0, 0, 0, 0}, tt[4] = {0, 0, 0, 0};                                                      \
            if (endpoint) jt[0] = s1[b], jt[1] = c1[b], jt[2] = s12[b], jt[3] = c12[b];                        \
            if (g_tip) tt[0] = ts1[b], tt[1] = tc1[b], tt[2] = ts12[b], tt[3] = tc12[b];                       \
            arm_row_forward_##SUFFIX(&s, M, h, c, q + 2 * b, qd + 2 * b, a + o, glen + o, gvel + o, e + o,     \
                                     endpoint ? endpoint + 2 * b : NULL, joint ? joint + 2 * b : NULL,         \
                                     rf + 2 * b, c2[b], s2[b], jt);                                            \
            arm_row_backward_##SUFFIX(                                                                         \
                &s, M, h, c, qd + 2 * b, force + o, arm + o2, a + o, e + o, endpoint ? endpoint + 2 * b : NULL, \
                c2[b], s2[b], tt, g_qb ? g_qb + 2 * b : NULL, g_qd3 ? g_qd3 + 2 * b : NULL,                    \
                g_an ? g_an + o : NULL, g_mlen ? g_mlen + o : NULL, g_fnew ? g_fnew + o : NULL,                \
                g_fpe ? g_fpe + o : NULL, g_fce ? g_fce + o : NULL, g_act ? g_act + o : NULL,                  \
                g_nlen ? g_nlen + o : NULL, g_nvel ? g_nvel + o : NULL, g_narm ? g_narm + o2 : NULL,           \
                g_tip ? g_tip + 4 * b : NULL, o_q + 2 * b, o_qd + 2 * b, o_a + o, o_force + o, o_glen + o,     \
                o_gvel + o, o_arm + o2, o_e + o, o_Q + 2 * b, endpoint ? o_ep + 2 * b : NULL);                 \
        }                                                                                                      \
        return 0;                                                                                              \
    }

ARM26_ROW(float, float, ARM_SEL_S, ARM_BC_S, f32)
ARM26_ROW(double, double, ARM_SEL_S, ARM_BC_S, f64)

#define ARM_NO_BLOCKS(...) 0L

/* Blocks of ARM_W float rows as GCC vectors (gcc and clang; lowered to the machine's widest float
 * vectors: SSE2 on any x86-64, AVX2 in the target clones below). */
#define ARM_W 8
typedef float arm_v8f __attribute__((vector_size(32)));
typedef int arm_v8i __attribute__((vector_size(32)));

static const arm_v8f arm_v8_one = {1, 1, 1, 1, 1, 1, 1, 1};
ARM_INLINE arm_v8f arm_sel_v8(arm_v8i m, arm_v8f x, arm_v8f y) {
    return (arm_v8f)(((arm_v8i)x & m) | ((arm_v8i)y & ~m));
}
/* BC broadcasts a scalar and leaves a vector as it is: x * 1 is exact for every x, -0 and NaN included
 * (x + 0 is not: it turns -0 into +0), and the compiler drops it. */
#define ARM_BC_V(x) ((x) * arm_v8_one)
#define ARM_SEL_V(c, x, y) arm_sel_v8((c), ARM_BC_V(x), ARM_BC_V(y))

ARM26_ROW(arm_v8f, float, ARM_SEL_V, ARM_BC_V, v8)

/* dst[j][w] = src[(b0 + w) n + j], and back */
ARM_INLINE void arm_pack(arm_v8f *dst, const float *src, long b0, long n) {
    for (long j = 0; j < n; ++j)
        for (int w = 0; w < ARM_W; ++w) dst[j][w] = src[(b0 + w) * n + j];
}
ARM_INLINE void arm_unpack(float *dst, const arm_v8f *src, long b0, long n) {
    for (long j = 0; j < n; ++j)
        for (int w = 0; w < ARM_W; ++w) dst[(b0 + w) * n + j] = src[j][w];
}
#define ARM_PACK_OR_NULL(dst, src, b0, n) ((src) ? (arm_pack((dst), (src), (b0), (n)), (const arm_v8f *)(dst)) : NULL)

#if defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
#define ARM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ARM_CLONES
#endif

ARM_CLONES static long arm26_forward_blocks(long B, long M, float h, const float *c, const float *q,
                                            const float *qd, const float *a, const float *glen,
                                            const float *gvel, const float *e, const float *endpoint,
                                            const float *joint, const float *rf, const float *c2,
                                            const float *s2, const float *s1, const float *c1,
                                            const float *s12, const float *c12, float *qb_out, float *qd_out,
                                            float *an_out, float *len_out, float *f_out, float *fpe_out,
                                            float *fce_out, float *act_out, float *nlen_out, float *nvel_out,
                                            float *narm_out) {
    arm_row_v8 s;
    arm_v8f vq[2], vqd[2], va[ARM_MAX_M], vglen[ARM_MAX_M], vgvel[ARM_MAX_M], ve[ARM_MAX_M], vep[2], vj[2];
    arm_v8f vrf[2], vc2, vs2, jt[4] = {{0}};
    arm_v8f o_an[ARM_MAX_M], o_len[ARM_MAX_M], o_f[ARM_MAX_M], o_fpe[ARM_MAX_M], o_fce[ARM_MAX_M];
    arm_v8f o_act[ARM_MAX_M], o_nlen[ARM_MAX_M], o_nvel[ARM_MAX_M], o_narm[2 * ARM_MAX_M], o_qb[2], o_qd[2];
    long b = 0;
    for (; b + ARM_W <= B; b += ARM_W) {
        arm_pack(vq, q, b, 2), arm_pack(vqd, qd, b, 2), arm_pack(va, a, b, M), arm_pack(vglen, glen, b, M);
        arm_pack(vgvel, gvel, b, M), arm_pack(ve, e, b, M), arm_pack(vrf, rf, b, 2);
        arm_pack(&vc2, c2, b, 1), arm_pack(&vs2, s2, b, 1);
        if (endpoint) arm_pack(jt, s1, b, 1), arm_pack(jt + 1, c1, b, 1), arm_pack(jt + 2, s12, b, 1), arm_pack(jt + 3, c12, b, 1);
        arm_row_forward_v8(&s, M, h, c, vq, vqd, va, vglen, vgvel, ve, ARM_PACK_OR_NULL(vep, endpoint, b, 2),
                           ARM_PACK_OR_NULL(vj, joint, b, 2), vrf, vc2, vs2, jt);
        arm_row_outputs_v8(&s, M, c, o_an, o_len, o_f, o_fpe, o_fce, o_act, o_nlen, o_nvel, o_narm, o_qb, o_qd);
        arm_unpack(an_out, o_an, b, M), arm_unpack(len_out, o_len, b, M), arm_unpack(f_out, o_f, b, M);
        arm_unpack(fpe_out, o_fpe, b, M), arm_unpack(fce_out, o_fce, b, M), arm_unpack(act_out, o_act, b, M);
        arm_unpack(nlen_out, o_nlen, b, M), arm_unpack(nvel_out, o_nvel, b, M);
        arm_unpack(narm_out, o_narm, b, 2 * M), arm_unpack(qb_out, o_qb, b, 2), arm_unpack(qd_out, o_qd, b, 2);
    }
    return b;
}

ARM_CLONES static long arm26_backward_blocks(
    long B, long M, float h, const float *c, const float *q, const float *qd, const float *a, const float *force,
    const float *glen, const float *gvel, const float *arm, const float *e, const float *endpoint,
    const float *joint, const float *rf, const float *c2, const float *s2, const float *s1, const float *c1,
    const float *s12, const float *c12, const float *ts1, const float *tc1, const float *ts12, const float *tc12,
    const float *g_qb, const float *g_qd3, const float *g_an, const float *g_mlen, const float *g_fnew,
    const float *g_fpe, const float *g_fce, const float *g_act, const float *g_nlen, const float *g_nvel,
    const float *g_narm, const float *g_tip, float *o_q, float *o_qd, float *o_a, float *o_force, float *o_glen,
    float *o_gvel, float *o_arm, float *o_e, float *o_Q, float *o_ep) {
    arm_row_v8 s;
    arm_v8f vq[2], vqd[2], va[ARM_MAX_M], vglen[ARM_MAX_M], vgvel[ARM_MAX_M], ve[ARM_MAX_M], vep[2], vj[2];
    arm_v8f vrf[2], vc2, vs2, jt[4] = {{0}}, tt[4] = {{0}}, vf[ARM_MAX_M], varm[2 * ARM_MAX_M];
    arm_v8f gqb[2], gqd3[2], gan[ARM_MAX_M], gmlen[ARM_MAX_M], gfnew[ARM_MAX_M], gfpe[ARM_MAX_M];
    arm_v8f gfce[ARM_MAX_M], gact[ARM_MAX_M], gnlen[ARM_MAX_M], gnvel[ARM_MAX_M], gnarm[2 * ARM_MAX_M], gtip[4];
    arm_v8f rq[2], rqd[2], ra[ARM_MAX_M], rforce[ARM_MAX_M], rglen[ARM_MAX_M], rgvel[ARM_MAX_M];
    arm_v8f rarm[2 * ARM_MAX_M], re[ARM_MAX_M], rQ[2], rep[2];
    long b = 0;
    for (; b + ARM_W <= B; b += ARM_W) {
        arm_pack(vq, q, b, 2), arm_pack(vqd, qd, b, 2), arm_pack(va, a, b, M), arm_pack(vglen, glen, b, M);
        arm_pack(vgvel, gvel, b, M), arm_pack(ve, e, b, M), arm_pack(vrf, rf, b, 2);
        arm_pack(vf, force, b, M), arm_pack(varm, arm, b, 2 * M);
        arm_pack(&vc2, c2, b, 1), arm_pack(&vs2, s2, b, 1);
        if (endpoint) arm_pack(jt, s1, b, 1), arm_pack(jt + 1, c1, b, 1), arm_pack(jt + 2, s12, b, 1), arm_pack(jt + 3, c12, b, 1);
        if (g_tip) arm_pack(tt, ts1, b, 1), arm_pack(tt + 1, tc1, b, 1), arm_pack(tt + 2, ts12, b, 1), arm_pack(tt + 3, tc12, b, 1);
        const arm_v8f *pep = ARM_PACK_OR_NULL(vep, endpoint, b, 2);
        arm_row_forward_v8(&s, M, h, c, vq, vqd, va, vglen, vgvel, ve, pep, ARM_PACK_OR_NULL(vj, joint, b, 2), vrf,
                           vc2, vs2, jt);
        arm_row_backward_v8(&s, M, h, c, vqd, vf, varm, va, ve, pep, vc2, vs2, tt, ARM_PACK_OR_NULL(gqb, g_qb, b, 2),
                            ARM_PACK_OR_NULL(gqd3, g_qd3, b, 2), ARM_PACK_OR_NULL(gan, g_an, b, M),
                            ARM_PACK_OR_NULL(gmlen, g_mlen, b, M), ARM_PACK_OR_NULL(gfnew, g_fnew, b, M),
                            ARM_PACK_OR_NULL(gfpe, g_fpe, b, M), ARM_PACK_OR_NULL(gfce, g_fce, b, M),
                            ARM_PACK_OR_NULL(gact, g_act, b, M), ARM_PACK_OR_NULL(gnlen, g_nlen, b, M),
                            ARM_PACK_OR_NULL(gnvel, g_nvel, b, M), ARM_PACK_OR_NULL(gnarm, g_narm, b, 2 * M),
                            ARM_PACK_OR_NULL(gtip, g_tip, b, 4), rq, rqd, ra, rforce, rglen, rgvel, rarm, re, rQ,
                            rep);
        arm_unpack(o_q, rq, b, 2), arm_unpack(o_qd, rqd, b, 2), arm_unpack(o_a, ra, b, M);
        arm_unpack(o_force, rforce, b, M), arm_unpack(o_glen, rglen, b, M), arm_unpack(o_gvel, rgvel, b, M);
        arm_unpack(o_arm, rarm, b, 2 * M), arm_unpack(o_e, re, b, M), arm_unpack(o_Q, rQ, b, 2);
        if (endpoint) arm_unpack(o_ep, rep, b, 2);
    }
    return b;
}

ARM26_DRIVERS(float, f32, arm26_forward_blocks, arm26_backward_blocks)
ARM26_DRIVERS(double, f64, ARM_NO_BLOCKS, ARM_NO_BLOCKS)
