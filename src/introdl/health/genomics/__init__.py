"""Variant calling as image classification (Lecture 12 part B, DeepVariant; Poplin et al. 2018).

The pipeline, one module per step:

- :mod:`.reference` reads the lambda phage genome Debian's ``bowtie2-examples`` ships;
- :mod:`.mutate` makes a diploid truth set (SNPs and small indels, het and hom-alt);
- :mod:`.reads` simulates short reads from it with a stated sequencing-error model,
  including systematic, strand-specific errors after a GGC motif (Nakamura et al. 2011);
- :mod:`.align` aligns them with the real ``bowtie2`` and sorts/indexes with ``samtools``;
- :mod:`.pileup` finds candidate sites in the BAM (pysam) and encodes each as a 6-channel
  pileup image, as DeepVariant does;
- :mod:`.caller` holds the CNN genotyper and an allele-fraction threshold baseline;
- :mod:`.evaluate` scores calls against the truth (precision, recall, F1 per variant type).
"""
