//! Chooses one package per name so that the whole world is satisfied, in apko's order.
