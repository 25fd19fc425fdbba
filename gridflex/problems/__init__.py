"""gridflex.problems"""
