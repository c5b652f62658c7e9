"""Training of subject models and sparse autoencoders, and the corpus and tokenizer they use."""
