"""python -m hedgectl"""

from hedgectl.entry import main

main()
