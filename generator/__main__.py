from generator.launcher import main

main()
