"""Training: config, train (the entry point), the input pipeline, callbacks, speed-ups, augmentation, seeding,
fine-tuning and the hand-landmark head's fitting."""
