"""Presentation: console tables and progress bars now; HTML and Markdown reports later.

Reads typed results only; nothing here measures or decides an exit code.
"""
