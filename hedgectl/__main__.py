"""python -m hedgectl"""

from hedgectl.cli.app import main

main()
