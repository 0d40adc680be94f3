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
 */
#include <math.h>
#include <stddef.h>

#define ARM_MAX_M 16

#define DEFINE_ARM26(REAL, SUFFIX)                                                                             \
    static REAL arm_clamp_##SUFFIX(REAL x, REAL lo, REAL hi) {                                                 \
        if (x != x) return x;                                                                                  \
        REAL y = x < lo ? lo : x;                                                                              \
        return y > hi ? hi : y;                                                                                \
    }                                                                                                          \
    static REAL arm_relu_##SUFFIX(REAL x) { return x != x ? x : (x < 0 ? (REAL)0 : x); }                       \
                                                                                                               \
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
    } arm_row_##SUFFIX;                                                                                        \
                                                                                                               \
    /* The forward of one row up to the limited joint state (everything but geometry and fingertip). */       \
    static void arm_row_forward_##SUFFIX(arm_row_##SUFFIX *s, long M, REAL h, const REAL *c, const REAL *q,  \
                                         const REAL *qd, const REAL *a, const REAL *force, const REAL *glen,   \
                                         const REAL *gvel, const REAL *R, const REAL *e, const REAL *endpoint, \
                                         const REAL *joint, const REAL *rf, REAL c2, REAL s2, const REAL *jt) {\
        const REAL *a_min = c, *a_max = c + M, *tau_act = c + 2 * M, *tau_deact = c + 3 * M;                   \
        const REAL *l0_ce = c + 5 * M, *l0_se = c + 6 * M, *l0_pe = c + 7 * M, *k_pe = c + 8 * M;              \
        const REAL *vmax = c + 9 * M, *s_as = c + 10 * M, *fl_w = c + 11 * M, *q_crit = c + 12 * M;            \
        const REAL *a_rel = c + 13 * M, *b_rel = c + 14 * M, *min_fl = c + 15 * M, *qc_den = c + 16 * M;       \
        const REAL *k = c + 26 * M;                                                                            \
        const REAL im11 = k[0], im12 = k[1], im22 = k[2], ic11 = k[3], ic12 = k[4], ic22 = k[5];               \
        const REAL kk = k[6], cv = k[7], L1 = k[8], L2 = k[9], nL1 = k[10], nL2 = k[11];                       \
        const REAL *vlb = k + 12, *vub = k + 14, *plb = k + 16, *pub = k + 18, damping = k[20];                \
        (void)force, (void)R;                                                                                  \
        for (long m = 0; m < M; ++m) {                                                                         \
            REAL u = arm_clamp_##SUFFIX(e[m], a_min[m], a_max[m]);                                             \
            REAL ac = arm_clamp_##SUFFIX(a[m], a_min[m], a_max[m]);                                            \
            REAL scale = (REAL)0.5 + (REAL)1.5 * ac;                                                           \
            REAL tau = u > ac ? tau_act[m] * scale : tau_deact[m] / scale;                                     \
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
        s->dq12 = (REAL)2 * dq1 + dq2;                                                                         \
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
            REAL an = arm_clamp_##SUFFIX(a_raw, a_min[m], a_max[m]);                                           \
            REAL length = arm_relu_##SUFFIX(glen[m] - l0_se[m]);                                               \
            REAL ln = length / l0_ce[m];                                                                       \
            REAL vn = gvel[m] / vmax[m];                                                                       \
            REAL stretch = arm_relu_##SUFFIX((length - l0_pe[m]) / l0_ce[m]);                                  \
            REAL kps = k_pe[m] * stretch;                                                                      \
            REAL dl = ln - 1;                                                                                  \
            REAL fl_raw = (REAL)1 - dl * dl / fl_w[m];                                                         \
            REAL f_ce = fl_raw != fl_raw ? fl_raw : (fl_raw > min_fl[m] ? fl_raw : min_fl[m]);                 \
            REAL big_a = ln > 1 ? a_rel[m] * f_ce : a_rel[m];                                                  \
            REAL b_base = (REAL)1 - (REAL)0.9 * (an - q_crit[m]) / qc_den[m];                                  \
            REAL big_b = an < q_crit[m] ? b_rel[m] * (b_base * b_base) : b_rel[m];                             \
            REAL f = an * f_ce;                                                                                \
            REAL f_ce_a = f_ce + big_a;                                                                        \
            REAL two_a = (REAL)2 * an;                                                                         \
            REAL t_den = two_a * f_ce_a / big_b;                                                               \
            REAL den = s_as[m] - t_den;                                                                        \
            REAL p1 = (REAL)-0.5 * f / den;                                                                    \
            REAL v_s = vn != vn ? vn : (vn > 0 ? (REAL)0 : vn);                                                \
            REAL v_l = vn != vn ? vn : (vn < 0 ? (REAL)0 : vn);                                                \
            REAL vs_a = v_s * an;                                                                              \
            REAL d_s = big_b - v_s;                                                                            \
            REAL shortening = (vs_a * big_a + f * big_b) / d_s;                                                \
            REAL p1_v = p1 + v_l;                                                                              \
            REAL inner = s_as[m] * p1_v + (REAL)1.5 * f;                                                       \
            REAL lengthening = (f * p1 + v_l * inner) / p1_v;                                                  \
            REAL act = arm_relu_##SUFFIX(vn < 0 ? shortening : lengthening);                                   \
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
            s->qd2[j] = arm_clamp_##SUFFIX(s->qd1[j], vlb[j], vub[j]);                                         \
            REAL lo = s->qa[j] <= plb[j] ? (REAL)0 : -(REAL)INFINITY;                                          \
            REAL hi = s->qa[j] >= pub[j] ? (REAL)0 : (REAL)INFINITY;                                           \
            s->qd3[j] = arm_clamp_##SUFFIX(s->qd2[j], lo, hi);                                                 \
            s->qb[j] = arm_clamp_##SUFFIX(s->qa[j], plb[j], pub[j]);                                           \
        }                                                                                                      \
    }                                                                                                          \
                                                                                                               \
    /* Forward: the step's outputs but the fingertip (arm26_tip_* gives it from the new angles' trig). */     \
    int arm26_forward_##SUFFIX(long B, long M, double h_, const REAL *c, const REAL *q, const REAL *qd,        \
                               const REAL *a, const REAL *force, const REAL *glen, const REAL *gvel,           \
                               const REAL *arm, const REAL *e, const REAL *endpoint, const REAL *joint,        \
                               const REAL *rf, const REAL *c2, const REAL *s2, const REAL *s1, const REAL *c1,                 \
                               const REAL *s12, const REAL *c12, REAL *qb_out, REAL *qd_out, REAL *an_out,     \
                               REAL *len_out, REAL *f_out, REAL *fpe_out, REAL *fce_out, REAL *act_out,        \
                               REAL *nlen_out, REAL *nvel_out, REAL *narm_out) {                               \
        if (M > ARM_MAX_M) return 1;                                                                           \
        const REAL h = (REAL)h_;                                                                               \
        const REAL *fmax = c + 4 * M, *a0 = c + 17 * M, *a1 = c + 18 * M, *a2 = c + 20 * M;                    \
        const REAL *a3 = c + 22 * M, *two_a2 = c + 24 * M;                                                     \
        arm_row_##SUFFIX s;                                                                                    \
        for (long b = 0; b < B; ++b) {                                                                         \
            const long o = M * b, o2 = 2 * M * b;                                                              \
            REAL jt[4] = {0, 0, 0, 0};                                                                         \
            if (endpoint) jt[0] = s1[b], jt[1] = c1[b], jt[2] = s12[b], jt[3] = c12[b];                        \
            arm_row_forward_##SUFFIX(&s, M, h, c, q + 2 * b, qd + 2 * b, a + o, force + o, glen + o, gvel + o, \
                                     arm + o2, e + o, endpoint ? endpoint + 2 * b : NULL,                      \
                                     joint ? joint + 2 * b : NULL, rf + 2 * b, c2[b], s2[b], jt);              \
            for (long m = 0; m < M; ++m) {                                                                     \
                an_out[o + m] = s.an[m], len_out[o + m] = s.length[m];                                         \
                f_out[o + m] = (s.act[m] + s.f_pe[m]) * fmax[m];                                               \
                fpe_out[o + m] = s.f_pe[m], fce_out[o + m] = s.f_ce[m], act_out[o + m] = s.act[m];             \
                REAL x0 = s.qb[0] - a3[m], x1 = s.qb[1] - a3[M + m];                                           \
                REAL r0 = a1[m] + two_a2[m] * x0, r1 = a1[M + m] + two_a2[M + m] * x1;                         \
                nlen_out[o + m] = a0[m] + ((a1[m] + a2[m] * x0) * x0 + (a1[M + m] + a2[M + m] * x1) * x1);     \
                nvel_out[o + m] = s.qd3[0] * r0 + s.qd3[1] * r1;                                               \
                narm_out[o2 + m] = r0, narm_out[o2 + M + m] = r1;                                              \
            }                                                                                                  \
            qb_out[2 * b] = s.qb[0], qb_out[2 * b + 1] = s.qb[1];                                              \
            qd_out[2 * b] = s.qd3[0], qd_out[2 * b + 1] = s.qd3[1];                                            \
        }                                                                                                      \
        return 0;                                                                                              \
    }                                                                                                          \
                                                                                                               \
    /* The fingertip (B, 4) from the new angles' trig: ts1, tc1 of qb[:, 0], ts12, tc12 of their sum. */      \
    void arm26_tip_##SUFFIX(long B, const REAL *c, long M, const REAL *qd3, const REAL *ts1, const REAL *tc1,  \
                            const REAL *ts12, const REAL *tc12, REAL *tip) {                                   \
        const REAL L1 = c[26 * M + 8], L2 = c[26 * M + 9];                                                     \
        for (long b = 0; b < B; ++b) {                                                                         \
            REAL tx = L1 * tc1[b] + L2 * tc12[b], ty = L1 * ts1[b] + L2 * ts12[b];                             \
            REAL w1 = qd3[2 * b], w2 = qd3[2 * b + 1];                                                         \
            tip[4 * b] = tx, tip[4 * b + 1] = ty;                                                              \
            tip[4 * b + 2] = -ty * w1 - L2 * ts12[b] * w2;                                                     \
            tip[4 * b + 3] = tx * w1 + L2 * tc12[b] * w2;                                                      \
        }                                                                                                      \
    }                                                                                                          \
                                                                                                               \
    /* Backward: gradients of the 12 outputs in (NULL: zero), of the inputs out; g_Q (B, 2) is the joint    \
     * torques' gradient (the joint load's), g_ep (B, 2) the endpoint load's (written with one). */          \
    int arm26_backward_##SUFFIX(                                                                               \
        long B, long M, double h_, const REAL *c, const REAL *q, const REAL *qd, const REAL *a,               \
        const REAL *force, const REAL *glen, const REAL *gvel, const REAL *arm, const REAL *e,                \
        const REAL *endpoint, const REAL *joint, const REAL *rf, const REAL *c2, const REAL *s2, const REAL *s1,\
        const REAL *c1, const REAL *s12, const REAL *c12, const REAL *ts1, const REAL *tc1, const REAL *ts12, \
        const REAL *tc12, const REAL *g_qb, const REAL *g_qd3, const REAL *g_an, const REAL *g_mlen,          \
        const REAL *g_fnew, const REAL *g_fpe, const REAL *g_fce, const REAL *g_act, const REAL *g_nlen,      \
        const REAL *g_nvel, const REAL *g_narm, const REAL *g_tip, REAL *o_q, REAL *o_qd, REAL *o_a,          \
        REAL *o_force, REAL *o_glen, REAL *o_gvel, REAL *o_arm, REAL *o_e, REAL *o_Q, REAL *o_ep) {           \
        if (M > ARM_MAX_M) return 1;                                                                           \
        const REAL h = (REAL)h_;                                                                               \
        const REAL *tau_act = c + 2 * M, *tau_deact = c + 3 * M, *fmax = c + 4 * M, *l0_ce = c + 5 * M;        \
        const REAL *vmax = c + 9 * M, *s_as = c + 10 * M, *fl_w = c + 11 * M, *q_crit = c + 12 * M;            \
        const REAL *a_rel = c + 13 * M, *b_rel = c + 14 * M, *min_fl = c + 15 * M, *qc_den = c + 16 * M;       \
        const REAL *two_a2 = c + 24 * M;                                                                       \
        const REAL *k = c + 26 * M;                                                                            \
        const REAL i11 = k[0], i12 = k[1], i22 = k[2], kk = k[6], cv = k[7], L1 = k[8], L2 = k[9];             \
        const REAL *a1 = c + 18 * M, *a3 = c + 22 * M, damping = k[20];                                        \
        (void)tau_act, (void)tau_deact;                                                                        \
        arm_row_##SUFFIX s;                                                                                    \
        for (long b = 0; b < B; ++b) {                                                                         \
            const long o = M * b, o2 = 2 * M * b;                                                              \
            const REAL *qdb = qd + 2 * b, *fb = force + o, *Rb = arm + o2, *ab = a + o, *eb = e + o;           \
            REAL jt[4] = {0, 0, 0, 0};                                                                         \
            if (endpoint) jt[0] = s1[b], jt[1] = c1[b], jt[2] = s12[b], jt[3] = c12[b];                        \
            arm_row_forward_##SUFFIX(&s, M, h, c, q + 2 * b, qdb, ab, fb, glen + o, gvel + o, Rb, eb,          \
                                     endpoint ? endpoint + 2 * b : NULL, joint ? joint + 2 * b : NULL,         \
                                     rf + 2 * b, c2[b], s2[b], jt);                                            \
            REAL gq[2], gw[2];                                                                                 \
            for (int j = 0; j < 2; ++j) {                                                                      \
                gq[j] = g_qb ? g_qb[2 * b + j] : 0;                                                            \
                gw[j] = g_qd3 ? g_qd3[2 * b + j] : 0;                                                          \
            }                                                                                                  \
            if (g_tip) {                                                                                       \
                const REAL *gt = g_tip + 4 * b;                                                                \
                REAL gx = gt[0], gy = gt[1], gxd = gt[2], gyd = gt[3], w1 = s.qd3[0], w2 = s.qd3[1];           \
                REAL tx = L1 * tc1[b] + L2 * tc12[b], ty = L1 * ts1[b] + L2 * ts12[b];                         \
                REAL g_x = gx + gyd * w1, g_y = gy - gxd * w1;                                                 \
                REAL g_c12 = g_x + gyd * w2, g_s12 = g_y - gxd * w2;                                           \
                REAL g_t12 = (g_s12 * tc12[b] - g_c12 * ts12[b]) * L2;                                         \
                gq[0] += g_t12 + (g_y * tc1[b] - g_x * ts1[b]) * L1;                                           \
                gq[1] += g_t12;                                                                                \
                gw[0] += gyd * tx - gxd * ty;                                                                  \
                gw[1] += (gyd * tc12[b] - gxd * ts12[b]) * L2;                                                 \
            }                                                                                                  \
            /* polynomial geometry: L = a0 + sum_j (a1 + a2 x) x, R = a1 + 2 a2 x, V = sum_j qd_j R_j */       \
            for (long m = 0; m < M; ++m) {                                                                     \
                REAL gnv = g_nvel ? g_nvel[o + m] : 0, gnl = g_nlen ? g_nlen[o + m] : 0;                       \
                for (int j = 0; j < 2; ++j) {                                                                  \
                    REAL x = s.qb[j] - a3[j * M + m];                                                          \
                    REAL rj = a1[j * M + m] + two_a2[j * M + m] * x;                                           \
                    REAL g_arm = (g_narm ? g_narm[o2 + j * M + m] : 0) + gnv * s.qd3[j];                       \
                    gw[j] += gnv * rj;                                                                         \
                    gq[j] += g_arm * two_a2[j * M + m] + gnl * rj;                                             \
                }                                                                                              \
            }                                                                                                  \
            /* joint limits, then q' = q + h qd, qd' = qd + h qdd */                                           \
            REAL g_qa[2], g_qd1[2];                                                                            \
            for (int j = 0; j < 2; ++j) {                                                                      \
                g_qa[j] = s.qb[j] == s.qa[j] ? gq[j] : 0;                                                      \
                g_qd1[j] = (s.qd3[j] == s.qd2[j]) && (s.qd2[j] == s.qd1[j]) ? gw[j] : 0;                       \
            }                                                                                                  \
            /* qdd = M^-1 r */                                                                                 \
            REAL g1 = g_qd1[0] * h / s.det, g2 = g_qd1[1] * h / s.det;                                         \
            REAL r1 = s.r[0], r2 = s.r[1];                                                                     \
            REAL g_r1 = g1 * s.m22 - g2 * s.m12, g_r2 = g2 * s.m11 - g1 * s.m12;                               \
            REAL g_det = -(g1 * s.qdd[0] + g2 * s.qdd[1]);                                                     \
            REAL g_m11 = g2 * r2 + g_det * s.m22, g_m22 = g1 * r1 + g_det * s.m11;                             \
            REAL g_m12 = g1 * r2 + g2 * r1 + 2 * g_det * s.m12; /* minus d / d m12 */                          \
            REAL g_c2 = g_m11 * i11 - g_m12 * i12 + g_m22 * i22;                                               \
            REAL dq1 = qdb[0], dq2 = qdb[1];                                                                   \
            REAL g_s2 = (g_r1 * s.dq12 * dq2 - g_r2 * dq1 * dq1) * kk;                                         \
            REAL ks2 = kk * s2[b];                                                                             \
            REAL g_dq1 = (g_r1 * dq2 - g_r2 * dq1) * (2 * ks2) - g_r1 * cv;                                    \
            REAL g_dq2 = g_r1 * ks2 * (s.dq12 + dq2) - g_r2 * cv;                                              \
            REAL g_q2 = g_s2 * c2[b] - g_c2 * s2[b], g_q1 = 0;                                                 \
            if (endpoint) {                                                                                    \
                REAL fx = endpoint[2 * b], fy = endpoint[2 * b + 1];                                           \
                o_ep[2 * b] = g_r1 * s.j11 + g_r2 * s.j12;                                                     \
                o_ep[2 * b + 1] = g_r1 * s.j21 + g_r2 * s.j22;                                                 \
                REAL d12 = s.j12 * fy - s.j22 * fx;                                                            \
                g_q1 = g_r1 * (s.j11 * fy - s.j21 * fx) + g_r2 * d12;                                          \
                g_q2 += (g_r1 + g_r2) * d12;                                                                   \
            }                                                                                                  \
            o_q[2 * b] = g_qa[0] + g_q1, o_q[2 * b + 1] = g_qa[1] + g_q2;                                      \
            o_Q[2 * b] = g_r1, o_Q[2 * b + 1] = g_r2;                                                          \
            o_qd[2 * b] = g_qd1[0] + g_dq1 - damping * g_r1 + h * g_qa[0];                                     \
            o_qd[2 * b + 1] = g_qd1[1] + g_dq2 - damping * g_r2 + h * g_qa[1];                                 \
            /* the Hill muscle at (a', the input geometry), then activation dynamics */                        \
            for (long m = 0; m < M; ++m) {                                                                     \
                o_force[o + m] = -(g_r1 * Rb[m] + g_r2 * Rb[M + m]);                                           \
                o_arm[o2 + m] = g_r1 * -fb[m], o_arm[o2 + M + m] = g_r2 * -fb[m];                              \
                REAL gfn = g_fnew ? g_fnew[o + m] * fmax[m] : 0;                                               \
                REAL g_actf = gfn + (g_act ? g_act[o + m] : 0);                                                \
                REAL g_pe = gfn + (g_fpe ? g_fpe[o + m] : 0);                                                  \
                REAL g_len_m = g_mlen ? g_mlen[o + m] : 0;                                                     \
                REAL g_fce_t = g_fce ? g_fce[o + m] : 0;                                                       \
                REAL g_a_out = g_an ? g_an[o + m] : 0;                                                         \
                REAL vn = s.vn[m], f = s.f[m], an = s.an[m], big_a = s.big_a[m], big_b = s.big_b[m];           \
                REAL g_sel = s.act[m] > 0 ? g_actf : 0;                                                        \
                REAL g_sh = vn < 0 ? g_sel : 0, g_le = g_sel - g_sh;                                           \
                REAL g_ns = g_sh / s.d_s[m], g_nl = g_le / s.p1_v[m];                                          \
                REAL g_p1v = g_nl * (s.v_l[m] * s_as[m] - s.lengthening[m]);                                   \
                REAL g_f = g_ns * big_b + g_nl * (s.p1[m] + (REAL)1.5 * s.v_l[m]);                             \
                REAL g_p1 = g_p1v + g_nl * f;                                                                  \
                REAL g_vl = g_p1v + g_nl * s.inner[m];                                                         \
                REAL g_vs = g_ns * (an * big_a + s.shortening[m]);                                             \
                REAL g_A = g_ns * s.vs_a[m];                                                                   \
                REAL g_B = g_ns * (f - s.shortening[m]);                                                       \
                REAL g_a_m = g_ns * (s.v_s[m] * big_a);                                                        \
                REAL g_p1_den = g_p1 / s.den[m];                                                               \
                g_f += (REAL)-0.5 * g_p1_den;                                                                  \
                REAL g_t = g_p1_den * s.p1[m] / big_b;                                                         \
                g_a_m += 2 * g_t * s.f_ce_a[m];                                                                \
                REAL g_fa = g_t * s.two_a[m];                                                                  \
                g_A += g_fa;                                                                                   \
                g_B -= g_t * s.t_den[m];                                                                       \
                g_a_m += g_f * s.f_ce[m];                                                                      \
                g_fce_t += g_fa + g_f * an + (s.ln[m] > 1 ? g_A * a_rel[m] : 0);                               \
                if (an < q_crit[m]) g_a_m += g_B * ((REAL)-1.8 * b_rel[m] / qc_den[m]) * s.b_base[m];          \
                g_a_out += g_a_m;                                                                              \
                REAL g_gv = ((s.v_s[m] == vn ? g_vs : 0) + (s.v_l[m] == vn ? g_vl : 0)) / vmax[m];             \
                REAL fl_raw = s.fl_raw[m];                                                                     \
                REAL m_fl = fl_raw > min_fl[m] ? (REAL)1 : (fl_raw == min_fl[m] ? (REAL)0.5 : (REAL)0);        \
                g_len_m += g_fce_t * (m_fl * s.dl[m] * ((REAL)-2 / (fl_w[m] * l0_ce[m])));                     \
                if (s.stretch[m] > 0) g_len_m += g_pe * s.k_pe_stretch[m] * ((REAL)2 / l0_ce[m]);              \
                o_glen[o + m] = s.length[m] > 0 ? g_len_m : 0;                                                 \
                o_gvel[o + m] = g_gv;                                                                          \
                REAL g_raw = s.an[m] == s.a_raw[m] ? g_a_out : 0;                                              \
                REAL g_u = g_raw * h / s.tau[m];                                                               \
                REAL rising = s.u[m] > s.ac[m] ? (REAL)3 : (REAL)0;                                            \
                REAL g_ac = -g_u - g_raw * (h * s.a_dot[m] * (rising - (REAL)1.5) / s.scale[m]);               \
                o_a[o + m] = g_raw + (s.ac[m] == ab[m] ? g_ac : 0);                                            \
                o_e[o + m] = s.u[m] == eb[m] ? g_u : 0;                                                        \
            }                                                                                                  \
        }                                                                                                      \
        return 0;                                                                                              \
    }

DEFINE_ARM26(float, f32)
DEFINE_ARM26(double, f64)
