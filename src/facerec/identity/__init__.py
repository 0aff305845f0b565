"""Who a face is: galleries and FaceNet's SVM behind one protocol (protocol.py), read from their
files (loading.py), with the open-set rule that keeps strangers Unknown (openset.py)."""
