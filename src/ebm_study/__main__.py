from ebm_study.commands.train import main

main()
