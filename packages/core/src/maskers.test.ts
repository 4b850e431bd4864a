import { describe, expect, it } from "vitest";
import { mask, maskAddress, maskBankCard, maskEmail, maskIdNumber, maskName, maskPhone } from "./maskers.ts";

describe("maskers", () => {
  it("SEC-2: a mainland mobile number keeps the first 3 and last 4 digits", () => {
    expect(maskPhone("13812341234")).toBe("138****1234");
    expect(maskPhone(" 138-1234-1234 ")).toBe("138****1234");
    expect(maskPhone("+86 138 1234 1234")).toBe("+86 138****1234");
    expect(maskPhone("12")).toBe("**");
  });

  it("SEC-2: a resident ID number keeps the first 3 and last 4 characters", () => {
    expect(maskIdNumber("11010519491231002X")).toBe("110***********002X");
    expect(maskIdNumber("11010519491231002x")).toBe("110***********002X");
    expect(maskIdNumber("123")).toBe("***");
  });

  it("SEC-2: a Chinese name keeps the surname, a Latin name each initial", () => {
    expect(maskName("张三")).toBe("张*");
    expect(maskName("欧阳娜娜")).toBe("欧***");
    expect(maskName("John Doe")).toBe("J*** D**");
    expect(maskName("  John   Doe ")).toBe("J*** D**");
    expect(maskName("")).toBe("");
  });

  it("SEC-2: an email keeps the first letter and the domain", () => {
    expect(maskEmail("john.doe@example.com")).toBe("j***@example.com");
    expect(maskEmail("j@example.com")).toBe("j***@example.com");
    expect(maskEmail("not-an-email")).not.toContain("not-an-email");
  });

  it("SEC-2: an address keeps the province and city only", () => {
    expect(maskAddress("浙江省杭州市滨江区网商路599号")).toBe("浙江省杭州市****");
    expect(maskAddress("广州市天河区体育西路1号")).toBe("广州市****");
    expect(maskAddress("1 Main St, Springfield, IL, US")).toBe("****, Springfield, IL, US");
    expect(maskAddress("Somewhere")).toBe("****");
  });

  it("SEC-2: a bank card keeps the last 4 digits", () => {
    expect(maskBankCard("6222 0212 3456 7891 234")).toBe("**** **** **** 1234");
    expect(maskBankCard("12")).toBe("****");
  });

  it("SEC-2: mask() dispatches by kind and never returns the input unchanged for real values", () => {
    const samples = {
      phone: "13812341234",
      idNumber: "11010519491231002X",
      name: "李四",
      email: "li.si@example.cn",
      address: "北京市朝阳区建国路88号",
      bankCard: "6222021234567891234",
    } as const;
    for (const [kind, value] of Object.entries(samples)) {
      const masked = mask(kind as keyof typeof samples, value);
      expect(masked).not.toBe(value);
      expect(masked).toContain("*");
    }
  });
});
