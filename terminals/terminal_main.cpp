// Placeholder until the terminal lands.
int main() { return 1; }
