"""Training: config, train (the entry point), speed-ups, augmentation, seeding, fine-tuning."""
