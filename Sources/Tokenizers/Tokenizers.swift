// Tokenizers module: see Package.swift for what it owns.
