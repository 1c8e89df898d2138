"""Per-guild semantic cache: an exact layer, a FAISS semantic layer, and a decision step."""
