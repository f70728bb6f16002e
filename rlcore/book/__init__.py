"""Layer 9, the book side: showing rlcore's source, plots, explorers and the student edition."""
