"""Presentation: console tables, progress bars, and the report from the results store
(``matrix``: the grid, recommendations and Pareto fronts; Markdown and CSV; HTML next).

Reads typed results only; nothing here measures or decides an exit code.
"""
