from campusnet.cli import main

main()
