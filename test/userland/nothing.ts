// Test and bench program: does nothing and exits 0 (the cost of a process itself).
