"""How storywatch shows what it found: the console (pass summary, coverage, the story report),
the HTML report with its chart, and the markdown a pass leaves as a Prefect artifact. Pure:
records in, text out."""
