"""Lecture 12 part B: AI for flood forecasting.

Two parts, one module per idea:

- rainfall-runoff on real daily data shipped with spotpy (:mod:`.rivers`): an LSTM
  (:mod:`.rainfall_runoff`) against persistence and the HYMOD conceptual model calibrated
  with spotpy (:mod:`.hymod`), scored by Nash-Sutcliffe efficiency (:mod:`.nse`);
- inundation mapping: procedural terrains (:mod:`.terrain`), a mass-conserving flood
  simulator (:mod:`.hydraulics`) and a U-Net surrogate that maps DEM + inflow to the
  flooded area (:mod:`.surrogate`).
"""
