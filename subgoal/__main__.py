from subgoal.cli import main

main()
