"""Zoo data package: index.json and weights/ (installed as keras_disent.zoo_data)."""
