from ebm_study.train import main

main()
