"""Models: the networks, the artifact format, TFLite and TF.js loaders, and resolving a model name."""
