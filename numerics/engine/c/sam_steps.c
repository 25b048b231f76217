/* Fused batch-1 SAM / SGD steps for depth-2 nobias, bias (relu or softplus) and sim_ln nets,
   MSE or logistic loss (docs/paper.md §2, §6). The formulas are those of
   numerics/engine/torch_fused/shallow.py, where they are derived; tests hold both equal to the
   autograd SAM step to 1e-12 in float64. W1 is worked on transposed (d x m), so every inner loop
   runs along the m neurons; the pass that updates W1 also computes the next sample's
   pre-activations. Compiled by loops.py together with deep_steps.c and sim_bn_steps.c. */
#include "steps_common.h"

/* dl/dz (gz) and dl/dW2 (gw2) at pre-activations z and output layer w2; returns f */
static real grads2(const spec *sp, const real *restrict z, const real *restrict w2, real t,
                   real *restrict h, real *restrict gz, real *restrict gw2) {
    long m = sp->m, j;
    act_fwd(sp->act, m, z, h, gz); /* gz holds act'(z) until the last loop */
    real f = vdot(w2, h, m), r;
    if (sp->arch == SIM_LN) {
        real on, s = ln_norm(sp, vdot(h, h, m), &on);
        f /= s;
        r = dloss(sp->loss, f, t);
        for (j = 0; j < m; j++) {
            real u = h[j] / s;
            gw2[j] = r * u;
            gz[j] = r / s * (w2[j] - f * on * u) * gz[j];
        }
        return f;
    }
    r = dloss(sp->loss, f, t);
    for (j = 0; j < m; j++) { gw2[j] = r * h[j]; gz[j] = r * w2[j] * gz[j]; }
    return f;
}

long NAME(work2)(const spec *sp) { return 6 * sp->m + sp->m * sp->d; }

/* S batch-1 steps. Returns 0, or k+1 if step k produced a non-finite output. */
long NAME(steps2)(const spec *sp, state *st) {
    long m = sp->m, d = sp->d, s, j;
    real *z = st->work, *h = z + m, *gz = h + m, *gw2 = gz + m, *zp = gw2 + m, *w2p = zp + m;
    real *W1T = w2p + m, *W2 = st->W2, *b1 = sp->arch != NOBIAS ? st->b1 : NULL;
    long rc = 0;
    if (st->S <= 0) return 0;
    transpose(m, d, st->W1, W1T);
    first_layer_t(m, d, W1T, b1, st->X + st->order[0] * d, z);
    for (s = 0; s < st->S; s++) {
        const real *x = st->X + st->order[s] * d;
        const real *xn = s + 1 < st->S ? st->X + st->order[s + 1] * d : x;
        real t = st->tgt[s], xx = sqnorm_input(sp, x);
        real f = grads2(sp, z, W2, t, h, gz, gw2);
        if (!isfinite(f)) { rc = s + 1; break; }
        if (sp->rho > 0) {
            real g2 = xx * vdot(gz, gz, m) + vdot(gw2, gw2, m), a = g2 > 0 ? sp->rho / SQRT(g2) : 0;
            for (j = 0; j < m; j++) { zp[j] = z[j] + a * xx * gz[j]; w2p[j] = W2[j] + a * gw2[j]; }
            f = grads2(sp, zp, w2p, t, h, gz, gw2);
            if (!isfinite(f)) { rc = s + 1; break; }
        }
        first_layer_step_t(sp, W1T, b1, x, xn, gz, z);
        for (j = 0; j < m; j++) W2[j] -= sp->lr * (gw2[j] + sp->wd * W2[j]);
        if (sp->radius > 0) {
            real c = project_first(sp, W1T, m * d, b1);
            if (c != 1) for (j = 0; j < m; j++) z[j] *= c;
        }
    }
    transpose(d, m, W1T, st->W1);
    return rc;
}
