"""`hedgectl report`: a run's (or several runs') numbers from the journal, as data and as one offline HTML page."""
