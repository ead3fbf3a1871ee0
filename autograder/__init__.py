"""autograder: grade a whole class with nbgrader, robust to broken and hostile submissions."""
