"""Layer 7, algorithms: one module each, holding its config, its learner (with the one ``update``
method a chapter shows) and its train function. Algorithms never import each other."""
