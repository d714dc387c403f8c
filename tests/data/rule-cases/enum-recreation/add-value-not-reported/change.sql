-- AlterEnum
ALTER TYPE "Role" ADD VALUE 'OWNER';
