"""The product line: product lines, products, competitive advantages, price lists."""
