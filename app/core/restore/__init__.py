"""Restoration: denoising and inpainting networks, hole fills, noise estimates, self-ensemble."""
