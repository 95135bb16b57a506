from logvigil.cli import main

main()
