"""FUNIT and COCO-FUNIT: few-shot translation of digits into unseen typeface x colour styles.

- :mod:`.styles`: the procedurally generated styles and their images (the data);
- :mod:`.networks`: the translators (content encoder, style encoders, AdaIN decoder) and
  the multi-task conditional discriminator;
- :mod:`.train`: the GAN + reconstruction + feature-matching training loop with its NaN guard;
- :mod:`.evaluate`: content preservation and style fidelity of translations by K.
"""
