"""Stand-in for Pillow (absent on the test machine): PIL.Image.new and Image.save for PNG only."""
__version__ = "0.0-standin"
