/** The tampered token of the resource.tampered probe: exactly one character changed, where it counts. */
import { describe, expect, it } from 'vitest';
import { tamper } from '../../src/probes/resource.js';

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/; // RFC 6750 §2.1

const differing = (a: string, b: string) =>
  [...a].map((c, i) => (c === b[i] ? -1 : i)).filter((i) => i >= 0);

describe('tamper', () => {
  const signature =
    'MEUCIQDx7n3kVOv8dNm2c1oVtZ3bQmPn6pH2iJ4m0y9oKfA3pwIgZ8_s4q1Yv3wR9c0u7JkP2oXh6Nb5tL1yQ3a8ZmRkV-E';
  const jwt = `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.${signature}`;

  it('changes one character in the middle of a JWS signature, nothing else', () => {
    const out = tamper(jwt);
    expect(out).toHaveLength(jwt.length);
    const at = differing(jwt, out);
    expect(at).toHaveLength(1);
    expect(at[0]).toBe(jwt.lastIndexOf('.') + 1 + Math.floor(signature.length / 2));
    // The decoded signature differs (a middle base64url character carries six significant bits).
    expect(
      Buffer.from(out.split('.')[2]!, 'base64url').equals(Buffer.from(signature, 'base64url')),
    ).toBe(false);
    expect(out).toMatch(B64TOKEN);
  });

  it('changes one character in the middle of an opaque token', () => {
    const opaque = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const out = tamper(opaque);
    expect(differing(opaque, out)).toEqual([21]);
    expect(out[21]).toBe('B');
    expect(tamper('abc~def.ghi')).toMatch(B64TOKEN);
  });

  it('gives an unsigned JWS (alg none) a signature it cannot have', () => {
    expect(tamper('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.')).toBe(
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.A',
    );
  });
});
