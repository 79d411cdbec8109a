"""The two states the diff compares: the desired objects of a configuration and the live
objects of a target (the snapshot), normalized alike and matched to each other."""
