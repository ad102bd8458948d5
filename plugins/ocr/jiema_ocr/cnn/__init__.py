"""PyTorch parts of the ocr plugin (imported only by the functions that need torch)."""
