"""The models a run trains: loading policies and processors from a hub id or a local path, the offline embedded
VLM, and the views that let a text-only LM or a processor without torchvision take part.

The bottom of the stack after ``rdbcl.config``: the trainers, methods and the run import it; it imports none of them.
"""
