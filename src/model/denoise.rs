//! The denoising autoencoder: a plain autoencoder (dense or convolutional) whose input is
//! corrupted every step while its target stays clean. The corruption itself is the training
//! loop's (`TrainConfig::noise`, changeable live); this kind is what tells the loop to train on it.
//! Other kinds only show the corruption in the studio. The reference corruption is
//! `Noise::REFERENCE` (Gaussian, σ = 0.3).

use super::Basic;

/// The denoising autoencoder on network `N`.
pub type DenoiseAe<N> = Basic<N>;
