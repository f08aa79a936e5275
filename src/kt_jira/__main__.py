from kt_jira.cli import main

main()
