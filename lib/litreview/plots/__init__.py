"""Figures, one module per stage; every function returns a matplotlib or plotly Figure.

Nothing here saves files: :func:`litreview.io.save_figure` does that.
"""
