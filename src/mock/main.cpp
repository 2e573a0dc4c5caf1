// Placeholder: the mock provider lands in the next commit.
int main() { return 0; }
