//! latentlab: branch-free f32 `exp`, `sigmoid` and `tanh` that the compiler vectorises.
//!
//! burn-flex maps these over a tensor with libm's scalar `expf` and `tanhf` (and a branch per
//! element for the sigmoid); in latentlab's LSTM autoencoder, whose cells apply them to every
//! gate at every time step, they took over half of a training step. Here `exp` is a Cody–Waite
//! range reduction with Cephes' degree-6 polynomial (relative error below 2e-7 over the whole
//! f32 range; inputs are clamped to it, NaN stays NaN); `sigmoid` and `tanh` are built on it
//! (absolute error below 3e-7).

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split so that `k · LN2_HI` is exact for the k that occur.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5 · 2²³: adding and subtracting it rounds an f32 to the nearest integer.
const ROUND: f32 = 12_582_912.0;

/// e^x for f32. No float-to-int conversion and no branch, so that loops over slices vectorise
/// (a saturating `as i32` cast, or `clamp` with its NaN rule, kept them scalar).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let nan = x.is_nan();
    let x = x.max(-87.3).min(88.3);
    let t = x * LOG2E + ROUND;
    let k = t - ROUND;
    // k's integer value sits in t's low mantissa bits.
    let ki = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = x - k * LN2_HI - k * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let e = p * r * r + r + 1.0;
    let y = e * f32::from_bits((ki.wrapping_add(127) << 23) as u32);
    if nan { f32::NAN } else { y }
}

/// 1 / (1 + e^(−x)).
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// tanh x, as 1 − 2 / (e^(2x) + 1), with its Taylor polynomial near 0 where that form would
/// lose the relative precision.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let wide = 1.0 - 2.0 / (exp(2.0 * x) + 1.0);
    let small = x - x * x * x * (1.0 / 3.0);
    if x.abs() < 4e-3 { small } else { wide }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_libm() {
        let mut worst = [0.0f64; 3];
        let mut x = -100.0f32;
        while x < 100.0 {
            let e = (x as f64).exp();
            if e > 1e-37 && e < 1e38 {
                worst[0] = worst[0].max(((exp(x) as f64 - e) / e).abs());
            }
            worst[1] = worst[1].max((sigmoid(x) as f64 - 1.0 / (1.0 + (-x as f64).exp())).abs());
            worst[2] = worst[2].max((tanh(x) as f64 - (x as f64).tanh()).abs());
            x += 0.0137;
        }
        assert!(worst[0] < 2e-7, "exp {}", worst[0]);
        assert!(worst[1] < 3e-7, "sigmoid {}", worst[1]);
        assert!(worst[2] < 3e-7, "tanh {}", worst[2]);
        assert!(exp(f32::NAN).is_nan() && tanh(f32::NAN).is_nan() && sigmoid(f32::NAN).is_nan());
        assert_eq!(exp(1000.0), exp(88.3));
        assert_eq!(tanh(50.0), 1.0);
        assert_eq!(tanh(-50.0), -1.0);
        assert!(sigmoid(-200.0) < 1e-37 && sigmoid(200.0) == 1.0);
    }
}
