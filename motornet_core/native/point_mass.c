/* One euler step of the point mass with linear ("relu") muscles and one-segment path geometry, and its
 * backward: motornet_core.kernels.PointMassReluStep as two plain loops over the batch.
 *
 * Built by motornet_core/native/__init__.py with -ffp-contract=off (no fused multiply-add) so that each
 * float operation rounds as the corresponding PyTorch elementwise operation does; the forward evaluates
 * the same expressions in the same order as the generic path (tests/core/test_native.py compares).
 *
 * Layout (all C-contiguous, rows b = 0..B-1, M muscles = G segments, J = 2 axes):
 *   q, qd (B, 2); a, force, e (B, M); arm (B, 2, M); endpoint, joint (B, 2) or NULL;
 *   rf (B, 2): (arm * force[:, None, :]).sum(-1) as PyTorch computes it (its order of addition varies
 *   with M).
 *   c: constants, REAL[8 M + 11]: a_min, a_max, tau_act, tau_deact, max_iso_force, w (M each),
 *      dxy (2, M) = end_xy - start_xy, then mass (2), vel_lb (2), vel_ub (2), pos_lb (2), pos_ub (2),
 *      damping (1).
 */
#include <math.h>
#include <stddef.h>

#define DEFINE_POINT_MASS(REAL, SUFFIX, SQRT)                                                                  \
    static REAL clamp_##SUFFIX(REAL x, REAL lo, REAL hi) {                                                     \
        /* torch.clamp: min(max(x, lo), hi); NaN propagates */                                                 \
        if (x != x) return x;                                                                                  \
        REAL y = x < lo ? lo : x;                                                                              \
        return y > hi ? hi : y;                                                                                \
    }                                                                                                          \
                                                                                                               \
    /* Joint j of one row: forces to accelerations, the euler update and the limits (Skeleton.apply_limits): \
     * the limited position q2 and velocity qd3, and where their gradients pass (m_pos, m_qd). */           \
    static void pm_joint_##SUFFIX(int j, REAL h, const REAL *mass, REAL damping, const REAL *qb, const REAL *qdb, \
                                  const REAL *rf, const REAL *endpoint, const REAL *joint, REAL *q2, REAL *qd3,  \
                                  REAL *m_pos, REAL *m_qd) {                                                   \
        const REAL *vlb = mass + 2, *vub = mass + 4, *plb = mass + 6, *pub = mass + 8;                         \
        REAL qf = -rf[j]; /* PyTorch's sum of R F over the muscles (its order of addition) */                  \
        if (joint) qf = qf + joint[j];                                                                         \
        qf = qf - damping * qdb[j];                                                                            \
        REAL total = endpoint ? qf + endpoint[j] : qf;                                                         \
        REAL qdd = total / mass[j];                                                                            \
        REAL qd1 = qdb[j] + h * qdd;                                                                           \
        REAL q1 = qb[j] + h * qdb[j];                                                                          \
        REAL qd2 = clamp_##SUFFIX(qd1, vlb[j], vub[j]);                                                        \
        REAL lo = q1 <= plb[j] ? (REAL)0 : -(REAL)INFINITY;                                                    \
        REAL hi = q1 >= pub[j] ? (REAL)0 : (REAL)INFINITY;                                                     \
        qd3[j] = clamp_##SUFFIX(qd2, lo, hi);                                                                  \
        q2[j] = clamp_##SUFFIX(q1, plb[j], pub[j]);                                                            \
        m_pos[j] = q2[j] == q1;                                                                                \
        m_qd[j] = (qd3[j] == qd2) && (qd2 == qd1);                                                             \
    }                                                                                                          \
                                                                                                               \
    void point_mass_forward_##SUFFIX(long B, long M, double h_, const REAL *c, const REAL *q, const REAL *qd,  \
                                     const REAL *a, const REAL *force, const REAL *arm, const REAL *e,         \
                                     const REAL *endpoint, const REAL *joint, const REAL *rf, REAL *q_out,     \
                                     REAL *qd_out,                                                             \
                                     REAL *a_out, REAL *f_out, REAL *len_out, REAL *vel_out, REAL *arm_out,    \
                                     REAL *tip_out) {                                                          \
        const REAL h = (REAL)h_;                                                                               \
        (void)force, (void)arm; /* their product's sum comes in as rf */                                       \
        const REAL *a_min = c, *a_max = c + M, *tau_act = c + 2 * M, *tau_deact = c + 3 * M;                   \
        const REAL *fmax = c + 4 * M, *w = c + 5 * M, *dxy = c + 6 * M;                                        \
        const REAL *mass = c + 8 * M; /* then vel_lb, vel_ub, pos_lb, pos_ub (pm_joint_*) */                   \
        const REAL damping = mass[10];                                                                         \
        for (long b = 0; b < B; ++b) {                                                                         \
            const REAL *qb = q + 2 * b, *qdb = qd + 2 * b, *ab = a + M * b, *eb = e + M * b;                   \
            REAL q2[2], qd3[2], m_pos[2], m_qd[2];                                                             \
            for (long m = 0; m < M; ++m) {                                                                     \
                REAL u = clamp_##SUFFIX(eb[m], a_min[m], a_max[m]);                                            \
                REAL ac = clamp_##SUFFIX(ab[m], a_min[m], a_max[m]);                                           \
                REAL scale = (REAL)0.5 + (REAL)1.5 * ac;                                                       \
                REAL tau = u > ac ? tau_act[m] * scale : tau_deact[m] / scale;                                 \
                REAL a_dot = (u - ac) / tau;                                                                   \
                REAL an = clamp_##SUFFIX(ab[m] + h * a_dot, a_min[m], a_max[m]);                               \
                a_out[M * b + m] = an;                                                                         \
                f_out[M * b + m] = an * fmax[m];                                                               \
            }                                                                                                  \
            for (int j = 0; j < 2; ++j) {                                                                      \
                pm_joint_##SUFFIX(j, h, mass, damping, qb, qdb, rf + 2 * b, endpoint ? endpoint + 2 * b : NULL,      \
                                  joint ? joint + 2 * b : NULL, q2, qd3, m_pos, m_qd);                         \
            }                                                                                                  \
            for (long g = 0; g < M; ++g) {                                                                     \
                REAL d0 = dxy[g] + q2[0] * w[g], d1 = dxy[M + g] + q2[1] * w[g];                               \
                REAL len = SQRT(d0 * d0 + d1 * d1);                                                            \
                REAL r0 = d0 / len * w[g], r1 = d1 / len * w[g];                                               \
                len_out[M * b + g] = len;                                                                      \
                vel_out[M * b + g] = r0 * qd3[0] + r1 * qd3[1];                                                \
                arm_out[2 * M * b + g] = r0;                                                                   \
                arm_out[2 * M * b + M + g] = r1;                                                               \
            }                                                                                                  \
            q_out[2 * b] = q2[0], q_out[2 * b + 1] = q2[1];                                                    \
            qd_out[2 * b] = qd3[0], qd_out[2 * b + 1] = qd3[1];                                                \
            tip_out[4 * b] = q2[0], tip_out[4 * b + 1] = q2[1];                                                \
            tip_out[4 * b + 2] = qd3[0], tip_out[4 * b + 3] = qd3[1];                                          \
        }                                                                                                      \
    }                                                                                                          \
                                                                                                               \
    /* Gradients of the forward's outputs in (any may be NULL: zero), gradients of its inputs out. The       \
     * forward's intermediates are recomputed per row (cheaper than saving them). */                          \
    void point_mass_backward_##SUFFIX(                                                                         \
        long B, long M, double h_, const REAL *c, const REAL *q, const REAL *qd, const REAL *a,                \
        const REAL *force, const REAL *arm, const REAL *e, const REAL *endpoint, const REAL *joint,            \
        const REAL *rf, const REAL *gq2, const REAL *gqd3, const REAL *gan, const REAL *gf, const REAL *glen, const REAL *gvel, \
        const REAL *garm, const REAL *gtip, REAL *g_q, REAL *g_qd, REAL *g_a, REAL *g_force, REAL *g_arm,      \
        REAL *g_e, REAL *g_total_out) {                                                                        \
        const REAL h = (REAL)h_;                                                                               \
        const REAL *a_min = c, *a_max = c + M, *tau_act = c + 2 * M, *tau_deact = c + 3 * M;                   \
        const REAL *fmax = c + 4 * M, *w = c + 5 * M, *dxy = c + 6 * M;                                        \
        const REAL *mass = c + 8 * M; /* then vel_lb, vel_ub, pos_lb, pos_ub (pm_joint_*) */                   \
        const REAL damping = mass[10];                                                                         \
        for (long b = 0; b < B; ++b) {                                                                         \
            const REAL *qb = q + 2 * b, *qdb = qd + 2 * b, *ab = a + M * b, *fb = force + M * b;               \
            const REAL *Rb = arm + 2 * M * b, *eb = e + M * b;                                                 \
            REAL q2[2], qd3[2], m_pos[2], m_qd[2], g2[2], gw[2];                                               \
            for (int j = 0; j < 2; ++j) {                                                                      \
                pm_joint_##SUFFIX(j, h, mass, damping, qb, qdb, rf + 2 * b, endpoint ? endpoint + 2 * b : NULL,      \
                                  joint ? joint + 2 * b : NULL, q2, qd3, m_pos, m_qd);                         \
                g2[j] = (gq2 ? gq2[2 * b + j] : 0) + (gtip ? gtip[4 * b + j] : 0);                             \
                gw[j] = (gqd3 ? gqd3[2 * b + j] : 0) + (gtip ? gtip[4 * b + 2 + j] : 0);                       \
            }                                                                                                  \
            /* geometry: len = |d|, unit = d / len, arm = unit w, vel = arm . qd3; d = dxy + q2 w */            \
            for (long g = 0; g < M; ++g) {                                                                     \
                REAL d0 = dxy[g] + q2[0] * w[g], d1 = dxy[M + g] + q2[1] * w[g];                               \
                REAL len = SQRT(d0 * d0 + d1 * d1);                                                            \
                REAL u0 = d0 / len, u1 = d1 / len;                                                             \
                REAL ga0 = garm ? garm[2 * M * b + g] : 0, ga1 = garm ? garm[2 * M * b + M + g] : 0;           \
                REAL gv = gvel ? gvel[M * b + g] : 0, gl = glen ? glen[M * b + g] : 0;                         \
                ga0 += gv * qd3[0], ga1 += gv * qd3[1];                                                        \
                gw[0] += gv * (u0 * w[g]), gw[1] += gv * (u1 * w[g]);                                          \
                REAL gu0 = ga0 * w[g], gu1 = ga1 * w[g];                                                       \
                REAL radial = gu0 * u0 + gu1 * u1;                                                             \
                REAL gd0 = (gu0 - u0 * radial) / len + u0 * gl, gd1 = (gu1 - u1 * radial) / len + u1 * gl;     \
                g2[0] += gd0 * w[g], g2[1] += gd1 * w[g];                                                      \
            }                                                                                                  \
            REAL gt[2];                                                                                        \
            for (int j = 0; j < 2; ++j) {                                                                      \
                REAL gq1 = g2[j] * m_pos[j], gqd1 = gw[j] * m_qd[j];                                           \
                gt[j] = gqd1 * (h / mass[j]);                                                                  \
                g_q[2 * b + j] = gq1;                                                                          \
                g_qd[2 * b + j] = gqd1 + h * gq1 - damping * gt[j];                                            \
                g_total_out[2 * b + j] = gt[j];                                                                \
            }                                                                                                  \
            for (long m = 0; m < M; ++m) {                                                                     \
                g_force[M * b + m] = -(gt[0] * Rb[m] + gt[1] * Rb[M + m]);                                     \
                g_arm[2 * M * b + m] = -gt[0] * fb[m];                                                         \
                g_arm[2 * M * b + M + m] = -gt[1] * fb[m];                                                     \
                REAL u = clamp_##SUFFIX(eb[m], a_min[m], a_max[m]);                                            \
                REAL ac = clamp_##SUFFIX(ab[m], a_min[m], a_max[m]);                                           \
                REAL scale = (REAL)0.5 + (REAL)1.5 * ac;                                                       \
                int rising = u > ac;                                                                           \
                REAL tau = rising ? tau_act[m] * scale : tau_deact[m] / scale;                                 \
                REAL a_dot = (u - ac) / tau;                                                                   \
                REAL a_raw = ab[m] + h * a_dot;                                                                \
                REAL an = clamp_##SUFFIX(a_raw, a_min[m], a_max[m]);                                           \
                REAL g_anew = (gan ? gan[M * b + m] : 0) + (gf ? gf[M * b + m] * fmax[m] : 0);                 \
                REAL g_raw = an == a_raw ? g_anew : 0;                                                         \
                REAL g_u = h * g_raw / tau;                                                                    \
                REAL dtau = rising ? tau_act[m] : -tau_deact[m] / (scale * scale);                             \
                REAL g_ac = -g_u - g_u * (u - ac) / tau * dtau * (REAL)1.5;                                    \
                g_a[M * b + m] = g_raw + (ac == ab[m] ? g_ac : 0);                                             \
                g_e[M * b + m] = u == eb[m] ? g_u : 0;                                                         \
            }                                                                                                  \
        }                                                                                                      \
    }

DEFINE_POINT_MASS(float, f32, sqrtf)
DEFINE_POINT_MASS(double, f64, sqrt)
