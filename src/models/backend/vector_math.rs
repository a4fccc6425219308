//! Softplus and its derivative over f32 slices, written so that the compiler vectorises them.
//!
//! The C library's `expf` and `logf` are scalar calls; these are Cephes' single-precision
//! polynomials (about one ulp) with branch-free range reduction, compiled once more with AVX2
//! and FMA enabled and chosen at run time when the CPU has them.

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two so that `n * LN2_HI` is exact.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
const ROUND: f32 = 12_582_912.0;

/// e^a for a in [-87, 0] (clamped below, where e^a is under 1.7e-38).
#[inline(always)]
fn exp_nonpositive(a: f32) -> f32 {
    let a = if a < -87.0 { -87.0 } else { a };
    let shifted = a * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = a - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let poly = p * r * r + r + 1.0;
    let exponent = (shifted.to_bits() as i32 - ROUND.to_bits() as i32) + 127;
    poly * f32::from_bits((exponent as u32) << 23)
}

/// ln y for a normal positive y.
#[inline(always)]
fn ln_positive(y: f32) -> f32 {
    let bits = y.to_bits();
    let e = ((bits >> 23) as i32 - 127) as f32;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    // Mantissa in [sqrt(1/2), sqrt(2)) so that the polynomial's argument stays small.
    let high = m > std::f32::consts::SQRT_2;
    let m = if high { m * 0.5 } else { m };
    let e = if high { e + 1.0 } else { e };
    let x = m - 1.0;
    let z = x * x;
    let mut p = 7.037_683_6e-2;
    p = p * x - 1.151_461e-1;
    p = p * x + 1.167_699_9e-1;
    p = p * x - 1.242_014_1e-1;
    p = p * x + 1.424_932_3e-1;
    p = p * x - 1.666_805_8e-1;
    p = p * x + 2.000_071_4e-1;
    p = p * x - 2.499_999_4e-1;
    p = p * x + 3.333_333e-1;
    let y = x * z * p + LN2_LO * e - 0.5 * z;
    x + y + LN2_HI * e
}

/// softplus(v) = max(v, 0) + ln(1 + e^-|v|); NaN stays NaN.
#[inline(always)]
fn softplus_one(v: f32) -> f32 {
    let tail = ln_positive(1.0 + exp_nonpositive(-v.abs()));
    let out = if v > 0.0 { v } else { 0.0 } + tail;
    if v.is_nan() { v } else { out }
}

/// g * sigmoid(v), the gradient of softplus; sigmoid from e^-|v| so that it never overflows.
#[inline(always)]
fn softplus_grad_one(v: f32, g: f32) -> f32 {
    let t = exp_nonpositive(-v.abs());
    let s = if v >= 0.0 { 1.0 } else { t } / (1.0 + t);
    let out = g * s;
    if v.is_nan() { v } else { out }
}

#[inline(always)]
fn softplus_loop(x: &[f32], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = softplus_one(v);
    }
}

#[inline(always)]
fn softplus_grad_loop(x: &[f32], grad: &mut [f32]) {
    for (g, &v) in grad.iter_mut().zip(x) {
        *g = softplus_grad_one(v, *g);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softplus_avx2(x: &[f32], out: &mut [f32]) {
    softplus_loop(x, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softplus_grad_avx2(x: &[f32], grad: &mut [f32]) {
    softplus_grad_loop(x, grad)
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

/// `out[i] = softplus(x[i])`.
pub fn softplus(x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "softplus: input and output lengths differ");
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above).
        return unsafe { softplus_avx2(x, out) };
    }
    softplus_loop(x, out)
}

/// `grad[i] *= sigmoid(x[i])`: the gradient of softplus at `x` given the output's gradient.
pub fn softplus_grad(x: &[f32], grad: &mut [f32]) {
    assert_eq!(x.len(), grad.len(), "softplus_grad: input and gradient lengths differ");
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above).
        return unsafe { softplus_grad_avx2(x, grad) };
    }
    softplus_grad_loop(x, grad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Vec<f32> {
        let mut xs: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 5e-4).collect();
        xs.extend([-1e30, -500.0, -88.0, -87.0, -1e-30, 0.0, -0.0, 1e-30, 88.0, 500.0, 1e30]);
        xs
    }

    #[test]
    fn exp_and_ln_match_the_c_library() {
        for a in (0..86_990).map(|i| -(i as f32) * 1e-3) {
            let (got, want) = (exp_nonpositive(a), (a as f64).exp());
            assert!((got as f64 - want).abs() <= 3e-7 * want, "exp({a}) = {got}, want {want}");
        }
        for y in (0..=100_000).map(|i| 1.0 + i as f32 * 1e-5) {
            let (got, want) = (ln_positive(y), (y as f64).ln());
            assert!((got as f64 - want).abs() <= 1.5e-7 * want.max(1e-30) + 1e-8, "ln({y}) = {got}, want {want}");
        }
        assert!((ln_positive(1e-20) as f64 - (1e-20f64).ln()).abs() < 1e-5);
        assert!((ln_positive(3e20) as f64 - (3e20f64).ln()).abs() < 1e-5);
    }

    #[test]
    fn softplus_matches_f64_to_float_precision() {
        let xs = grid();
        let mut out = vec![0.0; xs.len()];
        softplus(&xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            let want = if x > 30.0 { x as f64 } else { (x as f64).exp().ln_1p() };
            // Absolute 2e-7 near zero (f32 cannot hold ln(1 + tiny)), relative 2e-7 above.
            assert!((y as f64 - want).abs() <= 2e-7 * want.max(1.0), "softplus({x}) = {y}, want {want}");
        }
    }

    #[test]
    fn softplus_grad_is_the_sigmoid_times_the_gradient() {
        let xs = grid();
        let mut g: Vec<f32> = (0..xs.len()).map(|i| 0.5 + (i % 7) as f32).collect();
        let scale = g.clone();
        softplus_grad(&xs, &mut g);
        for ((&x, &got), &s) in xs.iter().zip(&g).zip(&scale) {
            let want = s as f64 / (1.0 + (-(x as f64)).exp());
            assert!((got as f64 - want).abs() <= 3e-7 * s as f64, "grad at {x} = {got}, want {want}");
        }
    }

    #[test]
    fn nan_and_infinities_come_through() {
        let xs = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        let mut out = [0.0; 3];
        softplus(&xs, &mut out);
        assert!(out[0].is_nan());
        assert_eq!(&out[1..], &[f32::INFINITY, 0.0]);
        let mut g = [1.0; 3];
        softplus_grad(&xs, &mut g);
        assert!(g[0].is_nan());
        assert_eq!(g[1], 1.0);
        assert!(g[2].abs() < 1e-30);
    }

    #[test]
    fn the_portable_loop_gives_the_same_values() {
        let xs = grid();
        let (mut a, mut b) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
        softplus(&xs, &mut a);
        softplus_loop(&xs, &mut b);
        for (x, (p, q)) in xs.iter().zip(a.iter().zip(&b)) {
            assert!((p - q).abs() <= 1e-7 * p.abs().max(1.0), "softplus({x}): {p} vs {q}");
        }
    }
}
